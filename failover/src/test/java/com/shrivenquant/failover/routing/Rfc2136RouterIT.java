package com.shrivenquant.failover.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.testkit.infra.NamedServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/**
 * {@link Rfc2136Router} against a real BIND named: what resolvers see after a failover, TSIG
 * refusal, the epoch guard (the router's check and the server's compare-and-swap), concurrent
 * writers, and a CNAME replacing A records.
 */
class Rfc2136RouterIT {
  static final String ZONE = "drill.shrivenquant.test.";
  static final Duration TTL = Duration.ofSeconds(1);

  static NamedServer named;

  @BeforeAll
  static void startNamed() {
    named =
        NamedServer.builder()
            .zone(ZONE)
            .name("dns")
            .logDirectory(Path.of("target", "it-logs", "Rfc2136RouterIT"))
            .start();
  }

  @AfterAll
  static void stopNamed() {
    if (named != null) {
      named.close();
    }
  }

  /** Each test its own name, so they share one server. */
  static FailoverSettings.Dns settings(String label, String secret) {
    return new FailoverSettings.Dns(
        named.server(),
        ZONE,
        label + "." + ZONE,
        TTL,
        named.tsigKeyName(),
        named.tsigAlgorithm(),
        secret,
        Duration.ofSeconds(3)); // a shared 2-core machine; the default is 1 s
  }

  static Rfc2136Router router(String label) {
    return new Rfc2136Router(settings(label, named.tsigSecret()));
  }

  @Test
  void resolversSeeTheNewRegionAndItsEpoch() throws Exception {
    Rfc2136Router router = router("orders");
    router.route("region-1", 1, "http://127.0.1.1:8080,http://127.0.1.2:8080");
    String done =
        router.route(
            "region-2", 2, "http://127.0.2.1:8080, http://127.0.2.2:8080,http://127.0.2.1:9090");

    String name = "orders." + ZONE;
    assertEquals(
        "DNS " + name + " A 127.0.2.1,127.0.2.2 ttl 1s epoch 2 via " + named.server(), done);
    List<Record> a = ask(name, Type.A);
    assertEquals(Set.of("127.0.2.1", "127.0.2.2"), addresses(a), "one A per distinct host");
    a.forEach(r -> assertEquals(1, r.getTTL(), "TTL from settings: " + r));
    assertEquals(List.of("epoch=2 region=region-2"), epochTexts("orders"));
    assertEquals(2, router.read().epoch());
    if (Files.isExecutable(Path.of("/usr/bin/dig"))) {
      assertEquals(Set.of("127.0.2.1", "127.0.2.2"), dig(name), "what dig sees");
    }
  }

  @Test
  void theSameRouteAgainSendsNoUpdate() throws Exception {
    Rfc2136Router router = router("again");
    router.route("region-2", 2, "http://127.0.2.1:8080");
    long serial = soaSerial();

    String done = router.route("region-2", 2, "http://127.0.2.1:8080");

    assertTrue(done.endsWith("(already in place)"), done);
    assertEquals(serial, soaSerial(), "the zone did not change");
  }

  @Test
  void aWrongTsigSecretIsRefusedAndChangesNothing() throws Exception {
    router("keyed").route("region-1", 1, "http://127.0.1.1:8080");
    String otherSecret = "c2hyaXZlbnF1YW50LW5vdC10aGUta2V5LW9mLXRoaXMtc2VydmVyIQ==";
    Rfc2136Router impostor = new Rfc2136Router(settings("keyed", otherSecret));

    Rfc2136Router.DnsUpdateException e =
        assertThrows(
            Rfc2136Router.DnsUpdateException.class,
            () -> impostor.route("region-2", 2, "http://127.0.2.1:8080"));
    assertEquals("NOTAUTH/BADSIG", e.rcode(), e.getMessage());

    // The server itself refuses the update, not only the router's read before it.
    Update update = new Update(Name.fromString(ZONE));
    update.delete(Name.fromString("keyed." + ZONE), Type.A);
    update.add(
        new ARecord(
            Name.fromString("keyed." + ZONE),
            DClass.IN,
            1,
            java.net.InetAddress.getByName("127.0.2.9")));
    Message answer = signedSend(update, otherSecret);
    assertEquals(Rcode.NOTAUTH, answer.getRcode(), answer.toString());
    assertEquals(Rcode.BADSIG, answer.getTSIG().getError(), answer.toString());

    assertEquals(Set.of("127.0.1.1"), addresses(ask("keyed." + ZONE, Type.A)));
    assertEquals(List.of("epoch=1 region=region-1"), epochTexts("keyed"));
  }

  @Test
  void anOlderEpochIsRefusedByTheRouterAndAStaleUpdateByTheServer() throws Exception {
    Rfc2136Router router = router("guarded");
    router.route("region-1", 1, "http://127.0.1.1:8080");
    // A second writer reads epoch 1's TXT and prepares its update on it ...
    Name name = Name.fromString("guarded." + ZONE);
    Name epochName = OrderEndpointRecords.epochName(name);
    List<Record> readAtEpoch1 = ask(epochName.toString(), Type.TXT);
    assertEquals(1, readAtEpoch1.size());
    Update stale = new Update(Name.fromString(ZONE));
    for (Record r : readAtEpoch1) {
      stale.present(
          Record.newRecord(r.getName(), r.getType(), r.getDClass(), 0, r.rdataToWireCanonical()));
    }
    stale.delete(name, Type.A);
    stale.delete(epochName, Type.TXT);
    stale.add(new ARecord(name, DClass.IN, 1, java.net.InetAddress.getByName("127.0.1.9")));
    stale.add(new TXTRecord(epochName, DClass.IN, 1, "epoch=1 region=region-1"));
    // ... meanwhile region 2 is promoted ...
    router.route("region-2", 2, "http://127.0.2.1:8080");

    // ... so the router refuses epoch 1 ...
    IllegalStateException refused =
        assertThrows(
            IllegalStateException.class,
            () -> router.route("region-1", 1, "http://127.0.1.1:8080"));
    assertTrue(refused.getMessage().contains("older epoch than the record's"), refused.toString());
    // ... and the server refuses the stale writer's update: its prerequisite no longer holds.
    Message answer = signedSend(stale, named.tsigSecret());
    assertEquals(Rcode.NXRRSET, answer.getRcode(), "prerequisite failed: " + answer);

    assertEquals(Set.of("127.0.2.1"), addresses(ask(name.toString(), Type.A)));
    assertEquals(List.of("epoch=2 region=region-2"), epochTexts("guarded"));
  }

  @Test
  void aWriterWhoMovedTheRecordMeanwhileWinsIfNewer() throws Exception {
    router("raced").route("region-1", 1, "http://127.0.1.1:8080");
    AtomicBoolean moved = new AtomicBoolean();
    // Between our read (epoch 1) and our update, another router writes epoch 3.
    Rfc2136Router slow =
        new Rfc2136Router(
            settings("raced", named.tsigSecret()),
            () -> {
              if (moved.compareAndSet(false, true)) {
                routeOrFail(router("raced"), "region-1", 3, "http://127.0.1.3:8080");
              }
            });

    IllegalStateException refused =
        assertThrows(
            IllegalStateException.class, () -> slow.route("region-2", 2, "http://127.0.2.1:8080"));

    assertTrue(moved.get());
    assertTrue(
        refused.getMessage().contains("older epoch than the record's (3"), refused.toString());
    assertEquals(Set.of("127.0.1.3"), addresses(ask("raced." + ZONE, Type.A)));
    assertEquals(List.of("epoch=3 region=region-1"), epochTexts("raced"));
  }

  @Test
  void aWriterWhoMovedTheRecordMeanwhileMakesUsRetryIfOlder() throws Exception {
    router("retried").route("region-1", 1, "http://127.0.1.1:8080");
    AtomicBoolean moved = new AtomicBoolean();
    Rfc2136Router slow =
        new Rfc2136Router(
            settings("retried", named.tsigSecret()),
            () -> {
              if (moved.compareAndSet(false, true)) {
                routeOrFail(router("retried"), "region-2", 2, "http://127.0.2.1:8080");
              }
            });

    slow.route("region-1", 3, "http://127.0.1.3:8080");

    assertTrue(moved.get());
    assertEquals(Set.of("127.0.1.3"), addresses(ask("retried." + ZONE, Type.A)));
    assertEquals(List.of("epoch=3 region=region-1"), epochTexts("retried"));
  }

  @Test
  void aSingleHostNameBecomesACnameInPlaceOfTheAddresses() throws Exception {
    Rfc2136Router router = router("aliased");
    router.route("region-1", 1, "http://127.0.1.1:8080,http://127.0.1.2:8080");

    String done = router.route("region-2", 2, "https://LB.region-2.example.net:8443");

    String name = "aliased." + ZONE;
    assertTrue(done.contains("CNAME lb.region-2.example.net."), done);
    List<Record> answer = ask(name, Type.A);
    assertEquals(1, answer.size(), "no A left beside the CNAME: " + answer);
    CNAMERecord cname = (CNAMERecord) answer.get(0);
    assertEquals(Name.fromString("lb.region-2.example.net."), cname.getTarget());
    assertEquals(1, cname.getTTL());
    assertEquals(List.of("epoch=2 region=region-2"), epochTexts("aliased"));

    // and back: addresses replace the CNAME
    router.route("region-1", 3, "http://127.0.1.1:8080");
    assertEquals(Set.of("127.0.1.1"), addresses(ask(name, Type.A)));
    assertTrue(ask(name, Type.CNAME).isEmpty());
  }

  // --- what a resolver sees: plain, unsigned queries to the server ---

  static List<Record> ask(String name, int type) throws IOException {
    SimpleResolver plain = new SimpleResolver(new InetSocketAddress("127.0.0.1", named.port()));
    plain.setTimeout(Duration.ofSeconds(3));
    Message answer =
        plain.send(Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN)));
    int rcode = answer.getRcode();
    assertTrue(rcode == Rcode.NOERROR || rcode == Rcode.NXDOMAIN, answer.toString());
    return answer.getSection(Section.ANSWER).stream()
        .filter(r -> r.getName().toString().equals(name))
        .toList();
  }

  static Set<String> addresses(List<Record> records) {
    Set<String> out = new TreeSet<>();
    for (Record r : records) {
      assertTrue(r instanceof ARecord, "an A record: " + r);
      out.add(((ARecord) r).getAddress().getHostAddress());
    }
    return out;
  }

  static List<String> epochTexts(String label) throws IOException {
    List<String> out = new ArrayList<>();
    for (Record r : ask("_epoch." + label + "." + ZONE, Type.TXT)) {
      out.add(String.join("", ((TXTRecord) r).getStrings()));
    }
    return out;
  }

  static long soaSerial() throws IOException {
    return ((SOARecord) ask(ZONE, Type.SOA).get(0)).getSerial();
  }

  static Message signedSend(Message m, String secret) throws IOException {
    SimpleResolver r = new SimpleResolver(new InetSocketAddress("127.0.0.1", named.port()));
    r.setTCP(true);
    r.setTimeout(Duration.ofSeconds(3));
    r.setTSIGKey(new TSIG(named.tsigAlgorithm(), named.tsigKeyName(), secret));
    return r.send(m);
  }

  static void routeOrFail(Rfc2136Router r, String region, long epoch, String url) {
    try {
      r.route(region, epoch, url);
    } catch (Exception e) {
      throw new AssertionError("the concurrent writer failed", e);
    }
  }

  /** {@code dig @127.0.0.1 -p PORT name A +short}: a resolver that is not ours. */
  static Set<String> dig(String name) throws Exception {
    Process p =
        new ProcessBuilder(
                "dig", "@127.0.0.1", "-p", Integer.toString(named.port()), name, "A", "+short")
            .redirectErrorStream(true)
            .start();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS), "dig finished");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
    return new TreeSet<>(out.lines().map(String::trim).filter(l -> !l.isEmpty()).toList());
  }
}
