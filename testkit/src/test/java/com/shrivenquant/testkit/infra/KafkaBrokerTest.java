package com.shrivenquant.testkit.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.KafkaExtension;
import java.io.File;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * One broker for the class (also exercises {@link KafkaExtension}); the tests run in order because
 * later ones restart and kill it. The testkit's own test class path has the broker version's
 * kafka-clients (provided scope); no other module's does.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaBrokerTest {

  private static final String TOPIC = "orders";
  private static final int PARTITION = 2;

  @RegisterExtension static final KafkaExtension kafka = new KafkaExtension();

  @Test
  @Order(1)
  void brokerClasspathIsKafkasOwnAndNotOurs() {
    List<String> cp = List.of(KafkaBroker.brokerClasspath().split(File.pathSeparator));
    assertTrue(
        cp.stream().anyMatch(e -> e.endsWith("kafka_2.13-" + kafkaVersion() + ".jar")),
        cp::toString);
    assertTrue(
        cp.stream().anyMatch(e -> e.endsWith("kafka-clients-" + kafkaVersion() + ".jar")),
        cp::toString);
    assertTrue(
        cp.stream().anyMatch(e -> e.matches(".*scala-library-2\\.13\\.\\d+\\.jar")), cp::toString);
    assertTrue(
        cp.stream().anyMatch(e -> e.contains("slf4j-reload4j")), "a log binding for the child");
    assertFalse(
        cp.stream()
            .anyMatch(
                e ->
                    e.contains("akka")
                        || e.contains("logback")
                        || e.contains("maven-antrun")
                        || e.contains("/ant-")
                        || e.contains("plexus")),
        cp::toString);
    assertEquals(cp.size(), cp.stream().distinct().count(), "no duplicates");
  }

  @Test
  @Order(2)
  void startsQuietlyOnLoopbackWithTheConfiguredServerProperties() throws Exception {
    KafkaBroker broker = kafka.broker();
    System.out.println(
        "[KafkaBrokerTest] broker served "
            + broker.lastStartupTime().toMillis()
            + " ms after start() began (storage format included)");
    assertTrue(broker.isRunning());
    assertEquals("127.0.0.1:" + broker.port(), kafka.bootstrapServers());
    assertEquals(broker.port(), kafka.port());
    assertNotEquals(broker.port(), broker.controllerPort());

    Map<String, String> props = broker.serverProperties();
    assertEquals("broker,controller", props.get("process.roles"));
    assertEquals("1@127.0.0.1:" + broker.controllerPort(), props.get("controller.quorum.voters"));
    assertEquals("8", props.get("num.partitions"));
    assertEquals("false", props.get("auto.create.topics.enable"));
    assertEquals("0", props.get("group.initial.rebalance.delay.ms"));
    Properties written = new Properties();
    try (var in = Files.newInputStream(broker.dataDirectory().resolve("server.properties"))) {
      written.load(in);
    }
    assertEquals(props, Map.copyOf(toMap(written)));

    String meta =
        Files.readString(broker.dataDirectory().resolve("kraft-combined-logs/meta.properties"));
    assertTrue(meta.contains("cluster.id=" + broker.clusterId()), meta);
    assertTrue(broker.clusterId().matches("[A-Za-z0-9_][A-Za-z0-9_-]{21}"), broker.clusterId());

    // The start line is seen on the child's output stream; its copy in the file may land a moment
    // later.
    List<String> log =
        Eventually.await(
            "the start line in the log file",
            Duration.ofSeconds(5),
            () -> Files.readAllLines(broker.logFile(), StandardCharsets.UTF_8),
            lines -> lines.stream().anyMatch(l -> l.contains("Kafka Server started")));
    assertTrue(
        log.stream().noneMatch(l -> l.contains(" INFO ") && !l.contains("KafkaRaftServer")),
        "quiet: no INFO but the start line\n" + String.join("\n", log));
    assertTrue(
        broker.logFile().endsWith(Path.of("target", "kafka-logs", "kafka-KafkaBrokerTest.log")));
  }

  @Test
  @Order(3)
  void topicIsCreatedAndARecordIsProducedAndConsumed() throws InterruptedException {
    kafka.createTopic(TOPIC, 3);
    kafka.createTopic(TOPIC, 3); // idempotent
    IllegalStateException other =
        assertThrows(IllegalStateException.class, () -> kafka.createTopic(TOPIC, 5));
    assertTrue(other.getMessage().contains("exists with 3 partitions"), other.getMessage());

    RecordMetadata sent = produce("order-1", "buy 100 @ 42.50");
    assertEquals(PARTITION, sent.partition());
    assertEquals(0, sent.offset());
    assertEquals(List.of("order-1=buy 100 @ 42.50"), consumeAll(1));
  }

  @Test
  @Order(4)
  void stopIsGracefulAndRestartKeepsPortAndDataWithoutReformatting() throws Exception {
    KafkaBroker broker = kafka.broker();
    long pidBefore = broker.pid().orElseThrow();
    String clusterId = broker.clusterId();
    Path formatLog = broker.logFile().resolveSibling(broker.name() + "-format.log");
    long formatRuns = formatRuns(formatLog);

    broker.stop();
    assertEquals(OptionalInt.of(143), broker.exitCode(), "obeyed SIGTERM within the grace");
    assertFalse(ProcessHandle.of(pidBefore).map(ProcessHandle::isAlive).orElse(false));
    broker.restart();

    assertTrue(broker.isRunning());
    assertNotEquals(pidBefore, broker.pid().orElseThrow());
    assertEquals(clusterId, broker.clusterId(), "no reformat");
    System.out.println(
        "[KafkaBrokerTest] restart served after " + broker.lastStartupTime().toMillis() + " ms");
    assertEquals(formatRuns, formatRuns(formatLog), "the storage tool did not run again");

    assertEquals(
        List.of("order-1=buy 100 @ 42.50"), consumeAll(1), "the record survived the restart");
  }

  @Test
  @Order(5)
  void kill9KillsItFreesThePortsAndARestartRecoversTheData() throws Exception {
    KafkaBroker broker = kafka.broker();
    produce("order-2", "sell 5 @ 43.00");
    long pid = broker.pid().orElseThrow();

    broker.kill9();

    assertEquals(OptionalInt.of(137), broker.exitCode(), "128 + SIGKILL");
    assertFalse(broker.isRunning());
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process is gone");
    assertPortFree(broker.port());
    assertPortFree(broker.controllerPort());

    broker.restart();

    System.out.println(
        "[KafkaBrokerTest] restart after kill -9 served after "
            + broker.lastStartupTime().toMillis()
            + " ms");
    assertEquals(List.of("order-1=buy 100 @ 42.50", "order-2=sell 5 @ 43.00"), consumeAll(2));
    assertEquals(
        2, produce("order-3", "buy 1 @ 1.00").offset(), "writable again, offsets continue");
  }

  @Test
  @Order(6)
  void aKeptDataDirectoryServesANewBrokerOnOtherPorts(@TempDir Path dir)
      throws InterruptedException {
    Path data = dir.resolve("kafka");
    String clusterId;
    int firstPort;
    try (KafkaBroker first =
        KafkaBroker.builder()
            .name("kept-kafka")
            .dataDirectory(data)
            .numPartitions(3)
            .autoCreateTopics(true)
            .start()) {
      clusterId = first.clusterId();
      firstPort = first.port();
      assertEquals("true", first.serverProperties().get("auto.create.topics.enable"));
      assertEquals(
          PARTITION,
          produce(first.bootstrapServers(), "dev-1", "kept").partition(),
          "auto-created, 3 partitions");
    }
    assertTrue(
        Files.exists(data.resolve("kraft-combined-logs/meta.properties")),
        "close keeps a given directory");

    try (KafkaBroker second =
        KafkaBroker.builder().name("kept-kafka").dataDirectory(data).start()) {
      assertNotEquals(firstPort, second.port());
      assertEquals(clusterId, second.clusterId(), "not reformatted");
      assertEquals(List.of("dev-1=kept"), consumeAll(second.bootstrapServers(), 1));
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static RecordMetadata produce(String key, String value) {
    return produce(kafka.bootstrapServers(), key, value);
  }

  private static RecordMetadata produce(String bootstrapServers, String key, String value) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      return producer.send(new ProducerRecord<>(TOPIC, PARTITION, key, value)).get();
    } catch (Exception e) {
      throw new AssertionError("produce failed", e);
    }
  }

  /**
   * Every record of the partition from its beginning, once {@code expected} arrived. No consumer
   * group.
   */
  private static List<String> consumeAll(int expected) throws InterruptedException {
    return consumeAll(kafka.bootstrapServers(), expected);
  }

  private static List<String> consumeAll(String bootstrapServers, int expected)
      throws InterruptedException {
    return PartitionReader.fromStart(
            bootstrapServers, new TopicPartition(TOPIC, PARTITION), expected)
        .stream()
        .map(r -> r.key() + "=" + r.value())
        .toList();
  }

  private static void assertPortFree(int port) throws IOException {
    try (Socket s = new Socket()) {
      assertThrows(
          ConnectException.class,
          () -> s.connect(new InetSocketAddress("127.0.0.1", port), 1_000),
          "nothing listens on " + port);
    }
    try (ServerSocket ss = new ServerSocket()) {
      ss.setReuseAddress(true);
      ss.bind(
          new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port)); // throws if still bound
    }
  }

  /**
   * ChildJvm appends a "=== ... started" line per run (the file outlives test runs until mvn
   * clean).
   */
  private static long formatRuns(Path formatLog) throws IOException {
    return Files.readAllLines(formatLog).stream().filter(l -> l.startsWith("=== ")).count();
  }

  private static Map<String, String> toMap(Properties p) {
    Map<String, String> m = new java.util.HashMap<>();
    p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
    return m;
  }

  private static String kafkaVersion() {
    return org.apache.kafka.common.utils.AppInfoParser.getVersion();
  }
}
