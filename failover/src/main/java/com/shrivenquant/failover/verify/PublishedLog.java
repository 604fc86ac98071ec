package com.shrivenquant.failover.verify;

import com.shrivenquant.replication.journal.RecordCodec;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** What the old primary published: read from its topic, independently of the applier. */
public final class PublishedLog {
  private PublishedLog() {}

  /** Per entity, the highest sequence number published under an epoch below {@code belowEpoch}. */
  public static Map<String, Long> lastPublished(
      String bootstrapServers, String topic, long belowEpoch, Duration timeout) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    Map<String, Long> out = new HashMap<>();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          c.partitionsFor(topic, timeout).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts, timeout);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline)
          throw new IllegalStateException("reading " + topic + " took longer than " + timeout);
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          RecordCodec.Received received = RecordCodec.fromRecord(r);
          if (received.epoch() < belowEpoch) {
            out.merge(received.row().persistenceId(), received.row().sequenceNumber(), Math::max);
          }
        }
      }
    }
    return out;
  }
}
