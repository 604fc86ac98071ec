package com.shrivenquant.testkit.infra;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) in a child JVM, started
 * from the {@code org.apache.kafka:kafka_2.13} jars of the version pinned in the parent POM ({@code
 * kafka-broker.version}).
 *
 * <pre>{@code
 * try (KafkaBroker kafka = KafkaBroker.builder().name("region-1-kafka").start()) {
 *   kafka.createTopic("journal", 8);
 *   producerProps.put("bootstrap.servers", kafka.bootstrapServers());
 *   kafka.kill9();  kafka.restart();   // same port, same data, no reformat
 * }
 * }</pre>
 *
 * <p>Never in this JVM: the broker's jars (Scala, its own kafka-clients) conflict with Alpakka
 * Kafka's kafka-clients 3.0.x. Its class path comes from the resource {@value #CLASSPATH_RESOURCE}
 * that the testkit build writes (absolute paths into the local Maven repository), or from the
 * system property {@value #CLASSPATH_PROPERTY}. Topics are created by a small admin main class of
 * the testkit run on that same class path, also in a child JVM.
 *
 * <p>Files: {@code <dataDirectory>/server.properties}, {@code log4j.properties} and the data in
 * {@code kraft-combined-logs/}; the broker's output (WARN and up, plus its start line) goes to
 * {@code <logDirectory>/<name>.log}. Storage is formatted once, when the data directory has no
 * {@code meta.properties} yet; a kept data directory is reused as is.
 */
public final class KafkaBroker implements AutoCloseable {

  /** Written by the testkit build (maven-dependency-plugin) into the testkit's classes. */
  public static final String CLASSPATH_RESOURCE = "shrivenquant/kafka-broker.classpath";

  /** Overrides the resource: a class path (entries separated by {@link File#pathSeparator}). */
  public static final String CLASSPATH_PROPERTY = "shrivenquant.kafka.broker.classpath";

  private final String name;
  private final Path dataDirectory;
  private final boolean temporaryDataDirectory;
  private final int port;
  private final int controllerPort;
  private final KafkaBrokerFiles.ProxiedListener proxiedListener;
  private final Path logDirectory;
  private final Map<String, String> serverProperties;
  private final Duration stopGrace;
  private final KafkaBrokerProcesses processes;
  private final Object lock = new Object();
  private volatile ChildJvm process;
  private volatile String clusterId;
  private volatile Duration lastStartupTime;
  private volatile boolean closed;

  private KafkaBroker(
      Builder b,
      String name,
      Path dataDirectory,
      boolean temporaryDataDirectory,
      int port,
      int controllerPort,
      String classpath) {
    this.name = name;
    this.dataDirectory = dataDirectory;
    this.temporaryDataDirectory = temporaryDataDirectory;
    this.port = port;
    this.controllerPort = controllerPort;
    this.proxiedListener = b.proxiedListener;
    this.logDirectory = b.logDirectory.toAbsolutePath();
    this.stopGrace = b.stopGrace;
    this.serverProperties =
        KafkaBrokerFiles.serverProperties(
            b.numPartitions,
            b.autoCreateTopics,
            b.serverProperties,
            port,
            controllerPort,
            proxiedListener,
            dataDirectory.resolve(KafkaBrokerFiles.DATA_SUBDIRECTORY));
    this.processes =
        new KafkaBrokerProcesses(
            name,
            dataDirectory,
            logDirectory,
            classpath,
            b.jvmOptions,
            b.echo,
            b.startupTimeout,
            port);
  }

  /** A throw-away broker: free ports, temporary data directory deleted on close. */
  public static KafkaBroker start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  public String name() {
    return name;
  }

  /** The PLAINTEXT listener on 127.0.0.1; stays the same across {@link #restart()}. */
  public int port() {
    return port;
  }

  /** The KRaft controller listener on 127.0.0.1 (clients never need it). */
  public int controllerPort() {
    return controllerPort;
  }

  /** {@code 127.0.0.1:<port>}, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** Whether the broker has the second client listener of {@link Builder#proxiedListener}. */
  public boolean hasProxiedListener() {
    return proxiedListener != null;
  }

  /**
   * The port the proxied listener is bound on, for the proxy to target; stays the same across
   * {@link #restart()}.
   *
   * @throws IllegalStateException without {@link Builder#proxiedListener}
   */
  public int proxiedListenerPort() {
    return requireProxiedListener().port();
  }

  /**
   * {@code 127.0.0.1:<advertised port>} (the proxy's), for {@code bootstrap.servers} of the clients
   * that go through the proxy.
   *
   * @throws IllegalStateException without {@link Builder#proxiedListener}
   */
  public String proxiedBootstrapServers() {
    return "127.0.0.1:" + requireProxiedListener().advertisedPort();
  }

  public Path dataDirectory() {
    return dataDirectory;
  }

  /** The KRaft cluster id the storage was formatted with. */
  public String clusterId() {
    return clusterId;
  }

  /** {@code <logDirectory>/<name>.log}: the broker's output, appended across restarts. */
  public Path logFile() {
    return logDirectory.resolve(name + ".log");
  }

  /** The broker's effective {@code server.properties}, in the order written. */
  public Map<String, String> serverProperties() {
    return serverProperties;
  }

  public boolean isRunning() {
    ChildJvm p = process;
    return p != null && p.isAlive();
  }

  /** The broker process's pid; empty when no broker process was started yet. */
  public Optional<Long> pid() {
    ChildJvm p = process;
    return p == null ? Optional.empty() : Optional.of(p.pid());
  }

  /**
   * Exit code of the last broker process: empty while it runs; 137 after {@link #kill9()}, 143
   * after {@link #stop()}.
   */
  public OptionalInt exitCode() {
    ChildJvm p = process;
    return p == null ? OptionalInt.empty() : p.exitCode();
  }

  /** Of the last start or restart: from formatting (if it ran) until the broker served. */
  public Duration lastStartupTime() {
    return lastStartupTime;
  }

  /**
   * SIGTERM (a controlled shutdown; Kafka flushes and closes its logs), SIGKILL after the stop
   * grace.
   */
  public void stop() {
    synchronized (lock) {
      ChildJvm p = process;
      if (p != null) {
        p.stop(stopGrace);
      }
    }
  }

  /** SIGKILL, like a crash: no controlled shutdown, no flush. Returns once the process is gone. */
  public void kill9() {
    synchronized (lock) {
      ChildJvm p = process;
      if (p != null && p.isAlive()) {
        p.kill9();
      }
    }
  }

  /**
   * Starts the broker again on the same ports and data directory, without formatting: what a crash
   * test needs after {@link #kill9()}. A running broker is stopped (SIGTERM) first.
   */
  public void restart() {
    synchronized (lock) {
      requireOpen();
      stop();
      launch();
    }
  }

  /** Creates a topic with replication factor 1 and waits until every partition has a leader. */
  public void createTopic(String topic, int partitions) {
    createTopic(topic, partitions, Map.of());
  }

  /**
   * As {@link #createTopic(String, int)}, with topic configs (e.g. {@code cleanup.policy=compact}).
   * Idempotent if the topic exists with this many partitions; fails if it has another count.
   */
  public void createTopic(String topic, int partitions, Map<String, String> configs) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
    }
    List<String> args =
        new ArrayList<>(
            List.of("create-topic", bootstrapServers(), topic, Integer.toString(partitions)));
    configs.forEach((k, v) -> args.add(k + "=" + v));
    runAdmin(args);
  }

  /**
   * Several topics (name to partition count) in one admin run: one child JVM instead of one per
   * topic.
   */
  public void createTopics(Map<String, Integer> partitionsByTopic) {
    List<String> args = new ArrayList<>(List.of("create-topics", bootstrapServers()));
    partitionsByTopic.forEach((topic, partitions) -> args.add(topic + ":" + partitions));
    runAdmin(args);
  }

  /** Stops the broker (SIGTERM) and deletes a temporary data directory. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      stop();
      if (temporaryDataDirectory) {
        Directories.deleteRecursively(dataDirectory);
      }
    }
  }

  @Override
  public String toString() {
    return "KafkaBroker["
        + name
        + " on "
        + bootstrapServers()
        + (isRunning() ? "" : ", not running")
        + "]";
  }

  /**
   * The broker's class path: system property {@value #CLASSPATH_PROPERTY}, else the resource
   * {@value #CLASSPATH_RESOURCE}. Every entry is checked to exist.
   */
  public static String brokerClasspath() {
    return KafkaBrokerClasspath.resolve();
  }

  // ---------------------------------------------------------------------------------------------

  private KafkaBrokerFiles.ProxiedListener requireProxiedListener() {
    if (proxiedListener == null) {
      throw new IllegalStateException(this + " has no proxied listener");
    }
    return proxiedListener;
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
  }

  /** Formats the storage if needed, launches the broker JVM and waits until it serves. */
  private void launch() {
    try {
      Files.createDirectories(dataDirectory);
      Files.createDirectories(logDirectory);
      Path config = KafkaBrokerFiles.write(dataDirectory, serverProperties);
      long begin = System.nanoTime();
      clusterId = processes.formatIfNeeded(config);
      ChildJvm broker = processes.startBroker(config);
      process = broker; // before waiting: a failed start reads its output
      processes.awaitServing(broker);
      lastStartupTime = Duration.ofNanos(System.nanoTime() - begin);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + this, e);
    }
  }

  private void runAdmin(List<String> args) {
    requireOpen();
    if (!isRunning()) {
      throw new IllegalStateException(
          this + ": cannot run admin " + args.get(0) + " (exit " + exitCode() + ")");
    }
    processes.runAdmin(args);
  }

  public static final class Builder {
    private String name;
    private Path dataDirectory;
    private int port;
    private KafkaBrokerFiles.ProxiedListener proxiedListener;
    private Path logDirectory = Path.of("target", "kafka-logs");
    private int numPartitions = 8;
    private boolean autoCreateTopics;
    private final Map<String, String> serverProperties = new LinkedHashMap<>();
    private final List<String> jvmOptions =
        new ArrayList<>(List.of("-Xms128m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"));
    private Duration startupTimeout = Duration.ofSeconds(90);
    private Duration stopGrace = Duration.ofSeconds(30);
    private boolean echo = Boolean.getBoolean(ChildJvm.ECHO_PROPERTY);

    private Builder() {}

    /** Names the log files, e.g. {@code region-1-kafka}. Default {@code kafka-<port>}. */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name);
      return this;
    }

    /**
     * Keeps the broker's data here (created if missing; formatted only if it holds no formatted
     * storage yet; never deleted). Default: a temporary directory, deleted on {@link #close()}.
     */
    public Builder dataDirectory(Path dataDirectory) {
      this.dataDirectory = dataDirectory;
      return this;
    }

    /**
     * The PLAINTEXT port. Default: a free one (see {@link FreePorts}). The controller port is
     * always free-chosen.
     */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("not a port: " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * A second client listener, {@code PROXIED}, bound on 127.0.0.1:{@code listenerPort} and
     * advertised as 127.0.0.1:{@code advertisedPort}: for a group of clients that reach the broker
     * through a {@link TcpProxy} (say, one region across a WAN) while others connect to {@link
     * #port(int) the PLAINTEXT port} directly. Kafka answers a client's metadata request with the
     * addresses of the listener it came in on, so a client that bootstraps on {@link
     * KafkaBroker#proxiedBootstrapServers()} keeps using the proxy.
     *
     * <p>The proxy must target the listener port and the broker must advertise the proxy's port, so
     * both are chosen before either starts:
     *
     * <pre>{@code
     * int listenerPort = FreePorts.freePort();
     * TcpProxy wan = TcpProxy.start("kafka-from-region-1", "127.0.0.1", listenerPort);
     * KafkaBroker kafka = KafkaBroker.builder().proxiedListener(listenerPort, wan.port()).start();
     * }</pre>
     */
    public Builder proxiedListener(int listenerPort, int advertisedPort) {
      if (listenerPort < 1 || listenerPort > 65_535) {
        throw new IllegalArgumentException("not a listener port: " + listenerPort);
      }
      if (advertisedPort < 1 || advertisedPort > 65_535) {
        throw new IllegalArgumentException("not an advertised port: " + advertisedPort);
      }
      this.proxiedListener = new KafkaBrokerFiles.ProxiedListener(listenerPort, advertisedPort);
      return this;
    }

    /**
     * Where {@code <name>.log} (and the format and admin runs' logs) go. Default {@code
     * target/kafka-logs}.
     */
    public Builder logDirectory(Path logDirectory) {
      this.logDirectory = Objects.requireNonNull(logDirectory);
      return this;
    }

    /** {@code num.partitions} of auto-created topics. Default 8. */
    public Builder numPartitions(int numPartitions) {
      if (numPartitions < 1) {
        throw new IllegalArgumentException("numPartitions must be >= 1, was " + numPartitions);
      }
      this.numPartitions = numPartitions;
      return this;
    }

    /** {@code auto.create.topics.enable}. Default false: topics are created explicitly. */
    public Builder autoCreateTopics(boolean autoCreateTopics) {
      this.autoCreateTopics = autoCreateTopics;
      return this;
    }

    /** Any {@code server.properties} entry; wins over the defaults here. */
    public Builder serverProperty(String key, String value) {
      serverProperties.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
      return this;
    }

    /**
     * Replaces the broker JVM's options (default {@code -Xms128m -Xmx512m -XX:+UseG1GC
     * -XX:MaxGCPauseMillis=20}).
     */
    public Builder jvmOptions(String... options) {
      jvmOptions.clear();
      jvmOptions.addAll(List.of(options));
      return this;
    }

    /** Formatting plus start until the broker serves. Default 90 s. */
    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = Objects.requireNonNull(startupTimeout);
      return this;
    }

    /** How long {@link KafkaBroker#stop()} waits after SIGTERM before SIGKILL. Default 30 s. */
    public Builder stopGrace(Duration stopGrace) {
      this.stopGrace = Objects.requireNonNull(stopGrace);
      return this;
    }

    /**
     * Echo the broker's (quiet) output to our stdout. Default: system property {@value
     * ChildJvm#ECHO_PROPERTY}.
     */
    public Builder echoToStdout(boolean echo) {
      this.echo = echo;
      return this;
    }

    /** Formats the storage (first time only), starts the broker and waits until it serves. */
    public KafkaBroker start() {
      String classpath = brokerClasspath();
      // A free-chosen port can be taken before the broker binds it; retry on fresh ones.
      int attempts = port != 0 ? 1 : 3;
      for (int attempt = 1; ; attempt++) {
        List<Integer> ports =
            port != 0 ? List.of(port, FreePorts.freePort()) : FreePorts.freePorts(2);
        String brokerName = name != null ? name : "kafka-" + ports.get(0);
        boolean temporary = dataDirectory == null;
        Path data;
        try {
          data =
              temporary
                  ? Files.createTempDirectory("kafka-broker-")
                  : dataDirectory.toAbsolutePath();
        } catch (IOException e) {
          throw new UncheckedIOException("could not create a temporary data directory", e);
        }
        KafkaBroker broker =
            new KafkaBroker(
                this, brokerName, data, temporary, ports.get(0), ports.get(1), classpath);
        try {
          synchronized (broker.lock) {
            broker.launch();
          }
          return broker;
        } catch (RuntimeException e) {
          boolean portTaken = KafkaBrokerProcesses.failedToBind(broker.process);
          broker.close();
          if (attempt < attempts && portTaken) {
            continue;
          }
          throw e;
        }
      }
    }
  }
}
