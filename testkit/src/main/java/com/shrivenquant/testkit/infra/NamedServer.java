package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * A real BIND {@code named} (Debian package {@code bind9}), authoritative for one zone that a
 * generated TSIG key may update (RFC 2136), listening on 127.0.0.1 (UDP and TCP) on a free port.
 *
 * <p>Runs in the foreground ({@code -g}) from a temporary work directory (config, zone, journal),
 * deleted on close; its output goes to {@code <name>.log} in the log directory. It never outlives
 * this JVM, even a SIGKILLed one ({@link NativeChild}).
 */
public final class NamedServer implements AutoCloseable {

  public static final Path NAMED = Path.of("/usr/sbin/named");
  public static final String TSIG_ALGORITHM = "hmac-sha256";

  private final String name;
  private final int port;
  private final String zone;
  private final String tsigKeyName;
  private final String tsigSecret;
  private final Path workDirectory;
  private final NativeChild process;

  private NamedServer(
      String name,
      int port,
      String zone,
      String tsigKeyName,
      String tsigSecret,
      Path workDirectory,
      NativeChild process) {
    this.name = name;
    this.port = port;
    this.zone = zone;
    this.tsigKeyName = tsigKeyName;
    this.tsigSecret = tsigSecret;
    this.workDirectory = workDirectory;
    this.process = process;
  }

  public static Builder builder() {
    return new Builder();
  }

  public String name() {
    return name;
  }

  public int port() {
    return port;
  }

  /** {@code 127.0.0.1:<port>}, the form {@code routing.dns.server} takes. */
  public String server() {
    return "127.0.0.1:" + port;
  }

  /** Absolute, e.g. {@code drill.shrivenquant.test.}. */
  public String zone() {
    return zone;
  }

  /** Absolute, e.g. {@code shrivenquant-failover.}. */
  public String tsigKeyName() {
    return tsigKeyName;
  }

  /** Base64, as in a Kubernetes Secret or {@code nsupdate -y}. */
  public String tsigSecret() {
    return tsigSecret;
  }

  public String tsigAlgorithm() {
    return TSIG_ALGORITHM;
  }

  /** named's own process id. */
  public long pid() {
    return process.pid();
  }

  public Path logFile() {
    return process.logFile();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** A crash: SIGKILL, no shutdown. The work directory stays until {@link #close()}. */
  public void kill9() {
    process.kill9();
  }

  /** Stops named and deletes its work directory (zone, journal). */
  @Override
  public void close() {
    process.stop(Duration.ofSeconds(5));
    Directories.deleteRecursively(workDirectory);
  }

  @Override
  public String toString() {
    return "NamedServer[" + name + " " + zone + " on " + server() + "]";
  }

  /** True if {@code /usr/sbin/named} is installed (bin/test-setup installs it). */
  public static boolean installed() {
    return Files.isExecutable(NAMED);
  }

  public static final class Builder {
    private String name = "named";
    private String zone = "shrivenquant.test.";
    private String tsigKeyName = "shrivenquant-failover.";
    private Path logDirectory = Path.of("target", "named-logs");
    private Duration startupTimeout = Duration.ofSeconds(20);

    private Builder() {}

    /** Names the log file and the work directory; default {@code named}. */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name);
      return this;
    }

    /** The zone it is authoritative for; default {@code shrivenquant.test.}. */
    public Builder zone(String zone) {
      this.zone = NamedServerFiles.absoluteName(zone, "zone");
      return this;
    }

    /** The update key's name; default {@code shrivenquant-failover.} (reference.conf's). */
    public Builder tsigKeyName(String tsigKeyName) {
      this.tsigKeyName = NamedServerFiles.absoluteName(tsigKeyName, "TSIG key name");
      return this;
    }

    /** Where {@code <name>.log} goes. Default {@code target/named-logs}. */
    public Builder logDirectory(Path logDirectory) {
      this.logDirectory = Objects.requireNonNull(logDirectory);
      return this;
    }

    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = Objects.requireNonNull(startupTimeout);
      return this;
    }

    /** Starts named and waits until it answers the zone's SOA. */
    public NamedServer start() {
      if (!installed()) {
        throw new IllegalStateException(
            NAMED + " is missing: install the Debian package bind9 (bin/test-setup does)");
      }
      String secret = NamedServerFiles.randomSecret();
      Path logFile = logDirectory.resolve(name + ".log").toAbsolutePath();
      // A free port can be taken before named binds it; retry on a fresh one.
      for (int attempt = 1; ; attempt++) {
        int port = freeTcpAndUdpPort();
        Path work = createWorkDirectory();
        NativeChild child = null;
        try {
          NamedServerFiles.write(work, port, zone, tsigKeyName, TSIG_ALGORITHM, secret);
          // -g: foreground, log to stderr; -n 1: one worker thread on a shared machine. As root
          // named stays root (no -u): it only touches its own work directory.
          child =
              NativeChild.start(
                  name,
                  List.of(
                      NAMED.toString(),
                      "-g",
                      "-n",
                      "1",
                      "-4",
                      "-c",
                      work.resolve(NamedServerFiles.CONF).toString()),
                  logFile,
                  work);
          awaitServing(child, port);
          return new NamedServer(name, port, zone, tsigKeyName, secret, work, child);
        } catch (RuntimeException | IOException e) {
          boolean portTaken =
              child != null
                  && child.outputLines().stream().anyMatch(l -> l.contains("address in use"));
          if (child != null) {
            child.stop(Duration.ZERO);
          }
          Directories.deleteRecursively(work);
          if (portTaken && attempt < 3) {
            continue;
          }
          throw new IllegalStateException(
              "could not start named "
                  + name
                  + " for "
                  + zone
                  + " on 127.0.0.1:"
                  + port
                  + ": "
                  + e.getMessage()
                  + "\n"
                  + logFile
                  + " ends with:\n"
                  + (child == null ? "(not started)" : child.tail()),
              e);
        }
      }
    }

    private Path createWorkDirectory() {
      try {
        return Files.createTempDirectory("sq-named-" + name + "-");
      } catch (IOException e) {
        throw new UncheckedIOException("could not create a work directory for named", e);
      }
    }

    /** Until an SOA query for the zone is answered with the zone's SOA. */
    private void awaitServing(NativeChild child, int port) throws IOException {
      Name zoneName = Name.fromString(zone);
      SimpleResolver resolver = new SimpleResolver(new InetSocketAddress(loopback(), port));
      resolver.setTimeout(Duration.ofMillis(300));
      long deadline = System.nanoTime() + startupTimeout.toNanos();
      String last = "no answer";
      while (System.nanoTime() < deadline) {
        if (!child.isAlive()) {
          throw new IllegalStateException("named exited while starting");
        }
        try {
          Message answer =
              resolver.send(Message.newQuery(Record.newRecord(zoneName, Type.SOA, DClass.IN)));
          if (answer.getRcode() == Rcode.NOERROR
              && answer.getSection(Section.ANSWER).stream().anyMatch(r -> r instanceof SOARecord)) {
            return;
          }
          last = "answered " + Rcode.string(answer.getRcode());
        } catch (IOException e) {
          last = e.toString(); // not listening yet
        }
        Pause.sleep(50);
      }
      throw new IllegalStateException(
          "no SOA for " + zone + " within " + startupTimeout + " (last: " + last + ")");
    }
  }

  /** Free for TCP (FreePorts proves that) and for UDP: named needs both. */
  private static int freeTcpAndUdpPort() {
    for (int i = 0; i < 20; i++) {
      int port = FreePorts.freePort();
      try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback(), port))) {
        return port;
      } catch (IOException taken) {
        // a UDP socket holds it: try another
      }
    }
    throw new IllegalStateException("no loopback port free for both TCP and UDP");
  }

  private static InetAddress loopback() {
    try {
      return InetAddress.getByAddress("127.0.0.1", new byte[] {127, 0, 0, 1});
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
