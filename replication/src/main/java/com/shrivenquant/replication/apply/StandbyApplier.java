package com.shrivenquant.replication.apply;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.japi.Pair;
import akka.kafka.ConsumerSettings;
import akka.kafka.Subscriptions;
import akka.kafka.javadsl.Consumer;
import akka.stream.KillSwitches;
import akka.stream.RestartSettings;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.RestartSource;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.shrivenquant.replication.journal.JournalRow;
import com.shrivenquant.replication.journal.RecordCodec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import kamon.Kamon;
import kamon.metric.MeasurementUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Standby region: consumes the active region's journal records and writes them into this region's
 * own journal, so an entity started here recovers exactly the state it had there. Each partition's
 * next offset is stored in the same transaction as the rows it covers (exactly once across
 * crashes); a row already present (a re-publish) is not written again. Records written under an
 * epoch older than the current one are refused and reported, never applied: the hook failover
 * fences with.
 */
public final class StandbyApplier {
  private static final Logger log = LoggerFactory.getLogger(StandbyApplier.class);

  public record Settings(
      String groupId, String topic, String bootstrapServers, int maxBatch, Duration maxBatchWait) {}

  private volatile UniqueKillSwitch killSwitch;
  private volatile CompletionStage<Done> done;
  private final AtomicLong currentEpoch;
  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong lastAppliedAt = new AtomicLong();
  // Journal write in the active region -> commit here, in microseconds (both clocks are this
  // machine's in dev and tests; across regions it includes their clock offset).
  private final Recorder lag = new Recorder(3);
  private final Histogram lagTotal = new Histogram(3);
  // The same figures for Prometheus (the Recorder above serves the operator route's interval).
  private static final kamon.metric.Histogram LAG_METRIC =
      Kamon.histogram(
              "sq.replication.lag",
              "Journal write in the active region to commit in this standby region, per record",
              MeasurementUnit.time().microseconds())
          .withoutTags();
  private final DataSource journal;
  private final ConsumerSettings<String, byte[]> consumerSettings;
  private final String topic;

  private StandbyApplier(
      AtomicLong epoch,
      DataSource journal,
      ConsumerSettings<String, byte[]> consumerSettings,
      String topic) {
    this.currentEpoch = epoch;
    this.journal = journal;
    this.consumerSettings = consumerSettings;
    this.topic = topic;
  }

  public static StandbyApplier start(
      ActorSystem<?> system, DataSource journal, Settings settings, long epoch) {
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    AtomicLong currentEpoch = new AtomicLong(epoch);
    ConsumerSettings<String, byte[]> consumer =
        ConsumerSettings.create(system, new StringDeserializer(), new ByteArrayDeserializer())
            .withBootstrapServers(settings.bootstrapServers())
            .withGroupId(settings.groupId())
            .withProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")
            .withProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false")
            .withProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
            // Alpakka polls every 50 ms by default: that alone would be half the lag budget.
            .withPollInterval(Duration.ofMillis(5))
            .withPollTimeout(Duration.ofMillis(5));
    StandbyApplier applier = new StandbyApplier(currentEpoch, journal, consumer, settings.topic());
    // One applier per region (a singleton), assigning every partition itself: positions live in
    // this region's database, not in Kafka's consumer groups. Any failure (broker or database
    // gone) restarts the stream from the stored positions.
    Pair<UniqueKillSwitch, CompletionStage<Done>> running =
        RestartSource.onFailuresWithBackoff(
                RestartSettings.create(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2),
                // The positions are read inside the stream: if the database is down, that is a
                // stream failure, retried with backoff (a factory that throws would end it).
                () ->
                    Source.completionStageSource(
                        CompletableFuture.supplyAsync(
                            () -> {
                              Map<TopicPartition, Long> from =
                                  offsets(journal, applier.partitions());
                              log.info("Applying {} from {}", settings.topic(), from);
                              return Consumer.plainSource(
                                      consumer, Subscriptions.assignmentWithOffset(from))
                                  .groupedWithin(settings.maxBatch(), settings.maxBatchWait())
                                  .mapAsync(
                                      1,
                                      batch ->
                                          CompletableFuture.supplyAsync(
                                              () -> applier.apply(journal, batch), blocking));
                            },
                            blocking)))
            .viaMat(KillSwitches.single(), Keep.right())
            .toMat(Sink.ignore(), Keep.both())
            .run(system);
    applier.killSwitch = running.first();
    applier.done = running.second();
    applier.done.whenComplete(
        (d, e) -> {
          if (e != null) log.error("Applier stopped for good", e);
        });
    return applier;
  }

  /** From now on, records of an older epoch are refused. */
  public void fenceBelow(long epoch) {
    currentEpoch.accumulateAndGet(epoch, Math::max);
  }

  public long applied() {
    return applied.get();
  }

  public long refused() {
    return refused.get();
  }

  /** When the last batch committed here (epoch ms), 0 before the first: the stream's heartbeat. */
  public long lastAppliedAtMillis() {
    return lastAppliedAt.get();
  }

  /** The epoch below which records are refused. */
  public long currentEpoch() {
    return currentEpoch.get();
  }

  /** Replication lag since the previous call (journal write there -> commit here), microseconds. */
  public synchronized Histogram lagSinceLastCall() {
    Histogram h = lag.getIntervalHistogram();
    lagTotal.add(h);
    return h;
  }

  /**
   * Completes once every record that is in the topic now has been applied (or refused): what
   * promotion waits for before the standby accepts orders.
   */
  public CompletionStage<Done> drain(Duration timeout) {
    return CompletableFuture.supplyAsync(
        () -> {
          Map<TopicPartition, Long> end = endOffsets();
          long deadline = System.nanoTime() + timeout.toNanos();
          while (true) {
            Map<TopicPartition, Long> applied = offsets(journal, end.keySet());
            boolean caughtUp =
                end.entrySet().stream().allMatch(e -> applied.get(e.getKey()) >= e.getValue());
            if (caughtUp) return Done.getInstance();
            if (System.nanoTime() > deadline)
              throw new IllegalStateException(
                  "not drained within " + timeout + ": at " + applied + " of " + end);
            try {
              Thread.sleep(10);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IllegalStateException(e);
            }
          }
        });
  }

  private Map<TopicPartition, Long> endOffsets() {
    try (org.apache.kafka.clients.consumer.Consumer<String, byte[]> c =
        consumerSettings.createKafkaConsumer()) {
      return c.endOffsets(partitions(c));
    }
  }

  private Set<TopicPartition> partitions() {
    try (org.apache.kafka.clients.consumer.Consumer<String, byte[]> c =
        consumerSettings.createKafkaConsumer()) {
      return partitions(c);
    }
  }

  private Set<TopicPartition> partitions(
      org.apache.kafka.clients.consumer.Consumer<String, byte[]> c) {
    List<org.apache.kafka.common.PartitionInfo> info =
        c.partitionsFor(topic, Duration.ofSeconds(10));
    if (info == null || info.isEmpty())
      throw new IllegalStateException("topic " + topic + " has no partitions");
    return info.stream()
        .map(p -> new TopicPartition(p.topic(), p.partition()))
        .collect(java.util.stream.Collectors.toSet());
  }

  /** Stops consuming; a batch being applied commits or rolls back as a whole either way. */
  public CompletionStage<Done> stop() {
    killSwitch.shutdown();
    return done;
  }

  private Done apply(DataSource journal, List<ConsumerRecord<String, byte[]>> batch) {
    long epoch = currentEpoch.get();
    int appliedNow = 0;
    int refusedNow = 0;
    try (Connection c = journal.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement insert = c.prepareStatement(INSERT + " RETURNING ordering");
          PreparedStatement batchInsert = c.prepareStatement(INSERT);
          PreparedStatement tag =
              c.prepareStatement("INSERT INTO event_tag (event_id, tag) VALUES (?, ?)");
          PreparedStatement refuse =
              c.prepareStatement(
                  "INSERT INTO replication_refused (topic, kafka_partition, kafka_offset,"
                      + " persistence_id, sequence_number, record_epoch, current_epoch, reason)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
        for (ConsumerRecord<String, byte[]> record : batch) {
          RecordCodec.Received received = RecordCodec.fromRecord(record);
          JournalRow row = received.row();
          if (received.epoch() < epoch) {
            refuse.setString(1, record.topic());
            refuse.setInt(2, record.partition());
            refuse.setLong(3, record.offset());
            refuse.setString(4, row.persistenceId());
            refuse.setLong(5, row.sequenceNumber());
            refuse.setLong(6, received.epoch());
            refuse.setLong(7, epoch);
            refuse.setString(8, "written under epoch " + received.epoch() + " < current " + epoch);
            refuse.addBatch();
            refusedNow++;
            continue;
          }
          if (row.tags().isEmpty()) {
            bind(batchInsert, row);
            batchInsert.addBatch(); // one round trip for the batch (what the engine writes)
            continue;
          }
          bind(insert, row); // tagged rows need their new ordering for event_tag
          try (ResultSet rs = insert.executeQuery()) {
            if (rs.next()) {
              appliedNow++;
              for (String t : row.tags()) {
                tag.setLong(1, rs.getLong(1));
                tag.setString(2, t);
                tag.addBatch();
              }
            }
          }
        }
        for (int count : batchInsert.executeBatch()) {
          if (count > 0) appliedNow += count;
        }
        tag.executeBatch();
        refuse.executeBatch();
      }
      storeNextOffsets(c, batch);
      c.commit();
      long now = System.currentTimeMillis();
      lastAppliedAt.set(now);
      for (ConsumerRecord<String, byte[]> record : batch) {
        long written = RecordCodec.writeTimestamp(record);
        if (written > 0) {
          long micros = Math.max(1, (now - written) * 1000);
          lag.recordValue(micros);
          LAG_METRIC.record(micros);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not apply " + batch.size() + " records", e);
    }
    applied.addAndGet(appliedNow);
    if (refusedNow > 0) {
      refused.addAndGet(refusedNow);
      log.warn("Refused {} records of an epoch older than {}", refusedNow, epoch);
    }
    return Done.getInstance();
  }

  // A row already present (re-published after a crash) is left as it is: ON CONFLICT DO NOTHING.
  private static final String INSERT =
      "INSERT INTO event_journal (persistence_id, sequence_number, deleted, writer,"
          + " write_timestamp, adapter_manifest, event_ser_id, event_ser_manifest,"
          + " event_payload, meta_ser_id, meta_ser_manifest, meta_payload)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
          + " ON CONFLICT (persistence_id, sequence_number) DO NOTHING";

  private static void bind(PreparedStatement insert, JournalRow row) throws SQLException {
    insert.setString(1, row.persistenceId());
    insert.setLong(2, row.sequenceNumber());
    insert.setBoolean(3, row.deleted());
    insert.setString(4, row.writer());
    insert.setLong(5, row.writeTimestamp());
    insert.setString(6, row.adapterManifest());
    insert.setInt(7, row.serId());
    insert.setString(8, row.serManifest());
    insert.setBytes(9, row.payload());
    if (row.metaSerId() == null) insert.setNull(10, java.sql.Types.INTEGER);
    else insert.setInt(10, row.metaSerId());
    insert.setString(11, row.metaSerManifest());
    insert.setBytes(12, row.metaPayload());
  }

  private static void storeNextOffsets(Connection c, List<ConsumerRecord<String, byte[]>> batch)
      throws SQLException {
    Map<TopicPartition, Long> next = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : batch) {
      next.merge(new TopicPartition(r.topic(), r.partition()), r.offset() + 1, Math::max);
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO replication_applier_offset (topic, kafka_partition, next_offset, updated_at)"
                + " VALUES (?, ?, ?, now()) ON CONFLICT (topic, kafka_partition) DO UPDATE"
                + " SET next_offset = excluded.next_offset, updated_at = now()")) {
      for (Map.Entry<TopicPartition, Long> e : next.entrySet()) {
        ps.setString(1, e.getKey().topic());
        ps.setInt(2, e.getKey().partition());
        ps.setLong(3, e.getValue());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private static Map<TopicPartition, Long> offsets(
      DataSource journal, Set<TopicPartition> partitions) {
    Map<TopicPartition, Long> out = new HashMap<>();
    try (Connection c = journal.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT next_offset FROM replication_applier_offset WHERE topic = ? AND kafka_partition = ?")) {
      for (TopicPartition tp : partitions) {
        ps.setString(1, tp.topic());
        ps.setInt(2, tp.partition());
        try (ResultSet rs = ps.executeQuery()) {
          out.put(tp, rs.next() ? rs.getLong(1) : 0L);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not read applier offsets", e);
    }
    return out;
  }
}
