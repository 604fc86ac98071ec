package com.shrivenquant.testkit.infra;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The child JVMs behind one {@link KafkaBroker}, all on the broker's class path: the storage format
 * tool (once), the broker itself, and the testkit's admin main for topics.
 */
final class KafkaBrokerProcesses {

  static final String BROKER_MAIN = "kafka.Kafka";
  static final String STORAGE_TOOL_MAIN = "kafka.tools.StorageTool";

  /** Compiled against kafka-clients; only ever loaded in a child JVM on the broker's class path. */
  static final String ADMIN_MAIN = "com.shrivenquant.testkit.infra.KafkaAdminMain";

  private static final Pattern STARTED = Pattern.compile("Kafka Server started");
  private static final Pattern PORT_TAKEN =
      Pattern.compile("Address already in use|failed to bind");
  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(60);

  private final String name;
  private final Path dataDirectory;
  private final Path logDirectory;
  private final String classpath;
  private final List<String> jvmOptions;
  private final boolean echo;
  private final Duration startupTimeout;
  private final int port;

  KafkaBrokerProcesses(
      String name,
      Path dataDirectory,
      Path logDirectory,
      String classpath,
      List<String> jvmOptions,
      boolean echo,
      Duration startupTimeout,
      int port) {
    this.name = name;
    this.dataDirectory = dataDirectory;
    this.logDirectory = logDirectory;
    this.classpath = classpath;
    this.jvmOptions = List.copyOf(jvmOptions);
    this.echo = echo;
    this.startupTimeout = startupTimeout;
    this.port = port;
  }

  /** True if the broker's output says its port was taken: worth a retry on fresh ports. */
  static boolean failedToBind(ChildJvm broker) {
    return broker != null
        && broker.outputLines().stream().anyMatch(l -> PORT_TAKEN.matcher(l).find());
  }

  /**
   * Formats the storage unless {@code meta.properties} exists; returns the cluster id either way.
   */
  String formatIfNeeded(Path config) throws IOException {
    Path meta = KafkaBrokerFiles.metaProperties(dataDirectory);
    if (Files.exists(meta)) {
      return KafkaBrokerFiles.readClusterId(meta);
    }
    String id = KafkaBrokerFiles.randomClusterId();
    // The 3.9 StorageTool formats a static quorum (controller.quorum.voters) without --standalone.
    ChildJvm format =
        child(name + "-format", STORAGE_TOOL_MAIN, classpath)
            .args("format", "-t", id, "-c", config.toString())
            .start();
    int exit = awaitExitOrKill(format, startupTimeout);
    if (exit != 0 || !Files.exists(meta)) {
      throw new IllegalStateException(
          "formatting the storage of "
              + name
              + " failed (exit "
              + exit
              + "); "
              + format.logFile()
              + " ends with:\n"
              + tail(format.outputLines()));
    }
    return id;
  }

  /** Launches the broker JVM without waiting; see {@link #awaitServing(ChildJvm)}. */
  ChildJvm startBroker(Path config) {
    return child(name, BROKER_MAIN, classpath).args(config.toString()).start();
  }

  /** Until the broker logged its start and accepts connections; kills it if it does not. */
  void awaitServing(ChildJvm broker) {
    try {
      broker.awaitLogLine(STARTED, startupTimeout);
      awaitAccepting(broker, System.nanoTime());
    } catch (RuntimeException e) {
      broker.kill9();
      throw e;
    }
  }

  private void awaitAccepting(ChildJvm broker, long beginNanos) {
    long deadline = beginNanos + startupTimeout.toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      if (!broker.isAlive()) {
        throw new IllegalStateException(
            name
                + " exited with "
                + broker.exitCode()
                + " after it started; "
                + broker.logFile()
                + " ends with:\n"
                + tail(broker.outputLines()));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
        return;
      } catch (IOException e) {
        last = e;
      }
      Pause.sleep(50);
    }
    throw new IllegalStateException(
        name
            + " logged its start but accepts no connection on "
            + "127.0.0.1:"
            + port
            + " within "
            + startupTimeout
            + " (last: "
            + last
            + ")");
  }

  /** Runs {@link #ADMIN_MAIN} with {@code args} (command, bootstrap servers, ...) to its end. */
  void runAdmin(List<String> args) {
    String cp = classpath + File.pathSeparator + KafkaBrokerClasspath.testkitLocation();
    ChildJvm admin = child(name + "-admin", ADMIN_MAIN, cp).args(args).start();
    int exit = awaitExitOrKill(admin, ADMIN_TIMEOUT);
    if (exit != 0) {
      throw new IllegalStateException(
          "Kafka admin "
              + args.get(0)
              + " "
              + args.subList(2, args.size())
              + " on "
              + name
              + " failed (exit "
              + exit
              + "); "
              + admin.logFile()
              + " ends with:\n"
              + tail(admin.outputLines()));
    }
  }

  private static int awaitExitOrKill(ChildJvm child, Duration timeout) {
    try {
      return child.awaitExit(timeout);
    } catch (RuntimeException e) {
      child.kill9();
      throw e;
    }
  }

  private ChildJvm.Builder child(String childName, String mainClass, String cp) {
    ChildJvm.Builder b =
        ChildJvm.builder(childName, mainClass)
            .classpath(cp)
            .logDirectory(logDirectory)
            .echoToStdout(echo)
            .systemProperty(
                "log4j.configuration",
                dataDirectory.resolve(KafkaBrokerFiles.LOG4J_FILE).toUri().toString())
            .systemProperty("java.awt.headless", "true");
    if (mainClass.equals(BROKER_MAIN)) {
      b.jvmOptions(jvmOptions.toArray(String[]::new));
    } else {
      b.jvmOptions("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    }
    return b;
  }

  private static String tail(List<String> lines) {
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
  }
}
