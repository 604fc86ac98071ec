package com.shrivenquant.testkit.infra;

import com.shrivenquant.testkit.Eventually;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** The broker tests' reader: one partition from its beginning, no consumer group. */
final class PartitionReader {
  private PartitionReader() {}

  /** Every record of the partition from its beginning, once {@code expected} arrived. */
  static List<ConsumerRecord<String, String>> fromStart(
      String bootstrapServers, TopicPartition tp, int expected) throws InterruptedException {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    List<ConsumerRecord<String, String>> seen = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      Eventually.await(
          expected + " record(s) consumed",
          Duration.ofSeconds(20),
          () -> {
            consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
            return seen;
          },
          records -> records.size() >= expected);
    }
    return seen;
  }
}
