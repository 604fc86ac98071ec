package com.shrivenquant.testkit.infra;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Stream;

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

  static final String BROKER_MAIN = "kafka.Kafka";
  static final String STORAGE_TOOL_MAIN = "kafka.tools.StorageTool";

  /** Compiled against kafka-clients; only ever loaded in a child JVM on the broker's class path. */
  static final String ADMIN_MAIN = "com.shrivenquant.testkit.infra.KafkaAdminMain";

  static final int NODE_ID = 1;
  static final String DATA_SUBDIRECTORY = "kraft-combined-logs";
  private static final Pattern STARTED = Pattern.compile("Kafka Server started");
  private static final Pattern PORT_TAKEN =
      Pattern.compile("Address already in use|failed to bind");
  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(60);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String name;
  private final Path dataDirectory;
  private final boolean temporaryDataDirectory;
  private final int port;
  private final int controllerPort;
  private final Path logDirectory;
  private final Map<String, String> serverProperties;
  private final List<String> jvmOptions;
  private final Duration startupTimeout;
  private final Duration stopGrace;
  private final boolean echo;
  private final String classpath;
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
    this.logDirectory = b.logDirectory.toAbsolutePath();
    this.jvmOptions = List.copyOf(b.jvmOptions);
    this.startupTimeout = b.startupTimeout;
    this.stopGrace = b.stopGrace;
    this.echo = b.echo;
    this.classpath = classpath;
    this.serverProperties =
        serverProperties(b, port, controllerPort, dataDirectory.resolve(DATA_SUBDIRECTORY));
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
        deleteRecursively(dataDirectory);
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
    String fromProperty = System.getProperty(CLASSPATH_PROPERTY);
    if (fromProperty != null && !fromProperty.isBlank()) {
      return checked(fromProperty.trim(), "system property " + CLASSPATH_PROPERTY);
    }
    try (InputStream in = KafkaBroker.class.getResourceAsStream("/" + CLASSPATH_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "no "
                + CLASSPATH_RESOURCE
                + " next to "
                + KafkaBroker.class.getName()
                + " (in "
                + testkitLocation()
                + "): the testkit's Maven build writes it in generate-resources"
                + " (run `mvn -pl testkit generate-resources` after an IDE-only build), or set -D"
                + CLASSPATH_PROPERTY);
      }
      return checked(
          new String(in.readAllBytes(), StandardCharsets.UTF_8).trim(), CLASSPATH_RESOURCE);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + CLASSPATH_RESOURCE, e);
    }
  }

  private static String checked(String classpath, String source) {
    if (classpath.isEmpty()) {
      throw new IllegalStateException(source + " is empty");
    }
    List<String> missing =
        Stream.of(classpath.split(File.pathSeparator))
            .filter(entry -> !Files.exists(Path.of(entry)))
            .toList();
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "the Kafka broker class path from "
              + source
              + " names "
              + missing.size()
              + " missing file(s), e.g. "
              + missing.get(0)
              + ". The local Maven repository changed since the testkit"
              + " was built: rebuild it (mvn -pl testkit generate-resources).");
    }
    return classpath;
  }

  /**
   * The testkit's classes (a directory or the jar): on every child's class path, for the admin
   * main.
   */
  static String testkitLocation() {
    try {
      return Path.of(KafkaBroker.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .toString();
    } catch (URISyntaxException | RuntimeException e) {
      throw new IllegalStateException("cannot locate the testkit classes", e);
    }
  }

  // ---------------------------------------------------------------------------------------------

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
      Path config = dataDirectory.resolve("server.properties");
      Files.writeString(config, render(serverProperties), StandardCharsets.UTF_8);
      Files.writeString(dataDirectory.resolve("log4j.properties"), LOG4J, StandardCharsets.UTF_8);
      long begin = System.nanoTime();
      formatIfNeeded(config);
      ChildJvm broker = child(name, BROKER_MAIN, classpath).args(config.toString()).start();
      process = broker;
      try {
        broker.awaitLogLine(STARTED, startupTimeout);
        awaitAccepting(broker, System.nanoTime());
      } catch (RuntimeException e) {
        broker.kill9();
        throw e;
      }
      lastStartupTime = Duration.ofNanos(System.nanoTime() - begin);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + this, e);
    }
  }

  private void formatIfNeeded(Path config) throws IOException {
    Path meta = dataDirectory.resolve(DATA_SUBDIRECTORY).resolve("meta.properties");
    if (Files.exists(meta)) {
      Properties p = new Properties();
      try (InputStream in = Files.newInputStream(meta)) {
        p.load(in);
      }
      clusterId = p.getProperty("cluster.id");
      return;
    }
    String id = randomClusterId();
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
    clusterId = id;
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
      sleep(50);
    }
    throw new IllegalStateException(
        name
            + " logged its start but accepts no connection on "
            + bootstrapServers()
            + " within "
            + startupTimeout
            + " (last: "
            + last
            + ")");
  }

  private void runAdmin(List<String> args) {
    requireOpen();
    if (!isRunning()) {
      throw new IllegalStateException(
          this + ": cannot run admin " + args.get(0) + " (exit " + exitCode() + ")");
    }
    String cp = classpath + File.pathSeparator + testkitLocation();
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
                "log4j.configuration", dataDirectory.resolve("log4j.properties").toUri().toString())
            .systemProperty("java.awt.headless", "true");
    if (mainClass.equals(BROKER_MAIN)) {
      b.jvmOptions(jvmOptions.toArray(String[]::new));
    } else {
      b.jvmOptions("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    }
    return b;
  }

  /**
   * Quiet: WARN and up, plus the line that says the broker serves. Console only; ChildJvm writes
   * the file.
   */
  static final String LOG4J =
      String.join(
          "\n",
          "log4j.rootLogger=WARN, stdout",
          "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
          "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
          "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
          "log4j.logger.kafka.server.KafkaRaftServer=INFO",
          "");

  static Map<String, String> serverProperties(
      Builder b, int port, int controllerPort, Path logDirs) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", Integer.toString(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
    p.put(
        "listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", logDirs.toString());
    p.put("num.partitions", Integer.toString(b.numPartitions));
    p.put("default.replication.factor", "1");
    p.put("auto.create.topics.enable", Boolean.toString(b.autoCreateTopics));
    p.put("offsets.topic.replication.factor", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("min.insync.replicas", "1");
    // Fast start and fast first use: no rebalance delay, small internal topics (default 50
    // partitions
    // each, created on the first consumer group / transaction), quick unfencing of the broker.
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("offsets.topic.num.partitions", "8");
    p.put("transaction.state.log.num.partitions", "8");
    p.put("broker.heartbeat.interval.ms", "500");
    // After a kill -9 the restarted controller still holds the dead incarnation's registration and
    // answers DUPLICATE_BROKER_REGISTRATION until this session timeout (default 9 s) ran out, plus
    // retry backoff: 16 s to restart instead of 4. Still 6 missed heartbeats before a fence.
    p.put("broker.session.timeout.ms", "3000");
    p.put("controller.quorum.election.backoff.max.ms", "100");
    // A 2-core machine: fewer threads than the defaults (3 network, 8 I/O, 10 background).
    p.put("num.network.threads", "2");
    p.put("num.io.threads", "4");
    p.put("background.threads", "4");
    p.put("num.recovery.threads.per.data.dir", "2");
    p.putAll(b.serverProperties);
    return Collections.unmodifiableMap(p);
  }

  static String render(Map<String, String> properties) {
    StringBuilder sb =
        new StringBuilder("# written by ").append(KafkaBroker.class.getName()).append('\n');
    properties.forEach(
        (k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
    return sb.toString();
  }

  /** Kafka's format: 16 random bytes, URL-safe base64 without padding, never starting with '-'. */
  static String randomClusterId() {
    while (true) {
      byte[] bytes = new byte[16];
      RANDOM.nextBytes(bytes);
      String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
      if (!id.startsWith("-")) {
        return id;
      }
    }
  }

  private static String tail(List<String> lines) {
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              path -> {
                try {
                  Files.deleteIfExists(path);
                } catch (IOException ignored) {
                  // best effort: a temp directory left behind is harmless
                }
              });
    } catch (IOException | UncheckedIOException ignored) {
      // best effort
    }
  }

  public static final class Builder {
    private String name;
    private Path dataDirectory;
    private int port;
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
          boolean portTaken =
              broker.process != null
                  && broker.process.outputLines().stream()
                      .anyMatch(l -> PORT_TAKEN.matcher(l).find());
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
