package com.shrivenquant.testkit.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.testkit.Eventually;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/** A real named: serves its zone, takes updates signed with its key only, dies with its JVM. */
class NamedServerIT {
  static final Path LOGS = Path.of("target", "it-logs", "NamedServerIT").toAbsolutePath();

  @Test
  void servesTheZoneAndTakesSignedUpdatesOnly() throws Exception {
    Path work;
    try (NamedServer named =
        NamedServer.builder()
            .zone("Unit.ShrivenQuant.test")
            .name("dns")
            .logDirectory(LOGS)
            .start()) {
      assertEquals("unit.shrivenquant.test.", named.zone());
      assertEquals("127.0.0.1:" + named.port(), named.server());
      Name host = Name.fromString("host." + named.zone());
      Update update = new Update(Name.fromString(named.zone()));
      update.add(new ARecord(host, DClass.IN, 5, InetAddress.getByName("127.0.3.1")));

      String wrong = NamedServerFiles.randomSecret();
      Message refused =
          send(named, update, new TSIG(named.tsigAlgorithm(), named.tsigKeyName(), wrong));
      assertEquals(Rcode.NOTAUTH, refused.getRcode(), refused.toString());
      Message unsigned = send(named, update, null);
      assertEquals(Rcode.REFUSED, unsigned.getRcode(), unsigned.toString());
      assertEquals(Rcode.NXDOMAIN, query(named, host).getRcode());

      TSIG key = new TSIG(named.tsigAlgorithm(), named.tsigKeyName(), named.tsigSecret());
      Message accepted = send(named, update, key);
      assertEquals(Rcode.NOERROR, accepted.getRcode(), accepted.toString());
      assertTrue(accepted.isVerified(), "named signs its answer with the key");
      assertEquals(
          "127.0.3.1",
          ((ARecord) query(named, host).getSection(Section.ANSWER).get(0))
              .getAddress()
              .getHostAddress());
      assertTrue(Files.readString(named.logFile()).contains("running"), "named's output is logged");
      work = Path.of(workDirectoryOf(named.logFile()));
      assertTrue(Files.isDirectory(work));
    }
    assertFalse(Files.exists(work), "close deletes the work directory");
  }

  @Test
  void kill9KillsNamed() {
    try (NamedServer named = NamedServer.builder().name("killed").logDirectory(LOGS).start()) {
      ProcessHandle process = ProcessHandle.of(named.pid()).orElseThrow();
      named.kill9();
      assertFalse(process.isAlive());
      assertFalse(named.isAlive(), "the wrapper follows");
    }
  }

  @Test
  void namedExitsWhenTheJvmThatStartedItIsKilled() throws Exception {
    ChildJvm parent =
        ChildJvm.builder("named-parent", NamedServerTestMain.class)
            .args(LOGS.toString())
            .logDirectory(LOGS)
            .start();
    Matcher m =
        Pattern.compile("named pid=(\\d+)")
            .matcher(parent.awaitLogLine(Pattern.compile("named pid="), Duration.ofSeconds(60)));
    assertTrue(m.find());
    ProcessHandle named = ProcessHandle.of(Long.parseLong(m.group(1))).orElseThrow();

    parent.kill9(); // no shutdown hook runs: only the wrapper watching its stdin can stop named

    assertTrue(
        named.onExit().orTimeout(10, TimeUnit.SECONDS).handle((p, e) -> e == null).join(),
        "named exited after the JVM that started it was SIGKILLed");
    // the wrapper also deletes the work directory nobody else will
    Path work = Path.of(workDirectoryOf(LOGS.resolve("orphan.log")));
    Eventually.await(work + " deleted", Duration.ofSeconds(5), () -> !Files.exists(work));
  }

  private static Message send(NamedServer named, Message m, TSIG key) throws Exception {
    SimpleResolver r = new SimpleResolver(new InetSocketAddress("127.0.0.1", named.port()));
    r.setTCP(true);
    r.setTimeout(Duration.ofSeconds(3));
    if (key != null) {
      r.setTSIGKey(key);
    }
    return r.send(m);
  }

  private static Message query(NamedServer named, Name name) throws Exception {
    return send(named, Message.newQuery(Record.newRecord(name, Type.A, DClass.IN)), null);
  }

  /** The directory named.conf names, read from the log's first line (the command). */
  private static String workDirectoryOf(Path log) throws Exception {
    Matcher m = Pattern.compile("-c (\\S+)/named\\.conf").matcher(Files.readString(log));
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    return last;
  }
}
