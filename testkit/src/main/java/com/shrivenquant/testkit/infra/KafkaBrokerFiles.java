package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * A {@link KafkaBroker}'s data directory: the {@code server.properties} (tuned for one node on a
 * small machine) and quiet {@code log4j.properties} written before each start, the cluster id that
 * formatting stamps into {@code meta.properties}, and deletion of a temporary directory.
 */
final class KafkaBrokerFiles {

  static final int NODE_ID = 1;
  static final String DATA_SUBDIRECTORY = "kraft-combined-logs";
  static final String SERVER_PROPERTIES_FILE = "server.properties";
  static final String LOG4J_FILE = "log4j.properties";
  static final String PROXIED_LISTENER = "PROXIED";
  private static final SecureRandom RANDOM = new SecureRandom();

  private KafkaBrokerFiles() {}

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

  /**
   * The second client listener, {@value #PROXIED_LISTENER}: bound on {@code port}, advertised as
   * {@code advertisedPort} (a proxy's), both on 127.0.0.1.
   */
  record ProxiedListener(int port, int advertisedPort) {}

  /**
   * The defaults here, then {@code overrides} (the builder's server properties) on top. {@code
   * proxied} may be null: no second client listener.
   */
  static Map<String, String> serverProperties(
      int numPartitions,
      boolean autoCreateTopics,
      Map<String, String> overrides,
      int port,
      int controllerPort,
      ProxiedListener proxied,
      Path logDirs) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", Integer.toString(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
    String plaintext = "PLAINTEXT://127.0.0.1:" + port;
    String controller = "CONTROLLER://127.0.0.1:" + controllerPort;
    if (proxied == null) {
      p.put("listeners", plaintext + "," + controller);
      p.put("advertised.listeners", plaintext);
      p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    } else {
      // A client gets the metadata of the listener it connected to: one that bootstraps on the
      // proxy learns the proxy's address for the broker and keeps going through it.
      String prefix = PROXIED_LISTENER + "://127.0.0.1:";
      p.put("listeners", plaintext + "," + prefix + proxied.port() + "," + controller);
      p.put("advertised.listeners", plaintext + "," + prefix + proxied.advertisedPort());
      p.put(
          "listener.security.protocol.map",
          "PLAINTEXT:PLAINTEXT," + PROXIED_LISTENER + ":PLAINTEXT,CONTROLLER:PLAINTEXT");
    }
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", logDirs.toString());
    p.put("num.partitions", Integer.toString(numPartitions));
    p.put("default.replication.factor", "1");
    p.put("auto.create.topics.enable", Boolean.toString(autoCreateTopics));
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
    p.putAll(overrides);
    return Collections.unmodifiableMap(p);
  }

  /**
   * Writes {@code server.properties} and {@code log4j.properties} (afresh on every start) and
   * returns the path of the former.
   */
  static Path write(Path dataDirectory, Map<String, String> serverProperties) throws IOException {
    Path config = dataDirectory.resolve(SERVER_PROPERTIES_FILE);
    Files.writeString(config, render(serverProperties), StandardCharsets.UTF_8);
    Files.writeString(dataDirectory.resolve(LOG4J_FILE), LOG4J, StandardCharsets.UTF_8);
    return config;
  }

  static String render(Map<String, String> properties) {
    StringBuilder sb =
        new StringBuilder("# written by ").append(KafkaBroker.class.getName()).append('\n');
    properties.forEach(
        (k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
    return sb.toString();
  }

  /** Formatting writes it; its presence means the storage is formatted. */
  static Path metaProperties(Path dataDirectory) {
    return dataDirectory.resolve(DATA_SUBDIRECTORY).resolve("meta.properties");
  }

  /** The {@code cluster.id} of formatted storage. */
  static String readClusterId(Path metaProperties) throws IOException {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(metaProperties)) {
      p.load(in);
    }
    return p.getProperty("cluster.id");
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
}
