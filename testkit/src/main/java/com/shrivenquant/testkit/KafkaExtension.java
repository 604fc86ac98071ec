package com.shrivenquant.testkit;

import com.shrivenquant.testkit.infra.KafkaBroker;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Kafka broker (single-node KRaft, child JVM, see {@link KafkaBroker}) per test class.
 *
 * <pre>{@code
 * @RegisterExtension static final KafkaExtension kafka = new KafkaExtension();
 * @RegisterExtension static final KafkaExtension kafka =
 *     new KafkaExtension(b -> b.numPartitions(4).autoCreateTopics(true));
 *
 * kafka.createTopic("journal", 8);   producerProps.put("bootstrap.servers", kafka.bootstrapServers());
 * kafka.broker().kill9();  kafka.broker().restart();   // crash drills: same port, same data
 * }</pre>
 *
 * <p>The broker starts in BeforeAll, or earlier if another extension's BeforeAll reads it (e.g. an
 * {@link ActorTestKitExtension} whose config names the bootstrap servers), and is stopped after the
 * class's last test; its temporary data directory is deleted then. Its log is {@code
 * target/kafka-logs/kafka-<TestClass>.log}. Topics and records persist across the tests of a class:
 * use distinct topic names per test.
 */
public final class KafkaExtension extends ClassScopedExtension {

  private final UnaryOperator<KafkaBroker.Builder> broker;
  private volatile KafkaBroker started;

  /**
   * Defaults of {@link KafkaBroker.Builder}: free port, temporary data, 8 partitions, no
   * auto-create.
   */
  public KafkaExtension() {
    this(UnaryOperator.identity());
  }

  /**
   * {@code broker} adjusts the broker, e.g. {@code b ->
   * b.name("region-2-kafka").autoCreateTopics(true)}.
   */
  public KafkaExtension(UnaryOperator<KafkaBroker.Builder> broker) {
    this.broker = Objects.requireNonNull(broker);
  }

  @Override
  protected void start(ExtensionContext context) {
    KafkaBroker.Builder builder = KafkaBroker.builder();
    if (context != null) {
      builder.name("kafka-" + systemNameFor(context));
    }
    started = broker.apply(builder).start();
  }

  @Override
  protected void stop() {
    KafkaBroker b = started;
    started = null;
    b.close();
  }

  public KafkaBroker broker() {
    ensureStarted();
    return started;
  }

  /** {@code 127.0.0.1:<port>}; the same after {@link KafkaBroker#restart()}. */
  public String bootstrapServers() {
    return broker().bootstrapServers();
  }

  public int port() {
    return broker().port();
  }

  /** Replication factor 1; returns once every partition has a leader. */
  public void createTopic(String topic, int partitions) {
    broker().createTopic(topic, partitions);
  }

  public void createTopics(Map<String, Integer> partitionsByTopic) {
    broker().createTopics(partitionsByTopic);
  }
}
