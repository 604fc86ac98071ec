package com.shrivenquant.replication.publish;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.japi.Pair;
import akka.kafka.ProducerMessage;
import akka.kafka.ProducerSettings;
import akka.kafka.javadsl.Producer;
import akka.stream.KillSwitches;
import akka.stream.RestartSettings;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.RestartSource;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.shrivenquant.replication.journal.JournalTailer;
import com.shrivenquant.replication.journal.RecordCodec;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active region: tails the journal in ordering order ({@link JournalTailer}: no committed row is
 * ever skipped) and produces every row to Kafka, keyed by persistence id so each entity's events
 * stay in order within a partition. Idempotent producer, acks=all. The position moves only after
 * the broker acknowledged a whole poll's records, so a crash re-publishes at most the
 * unacknowledged tail (the applier ignores rows it already has) and never skips.
 */
public final class JournalPublisher {
  private static final Logger log = LoggerFactory.getLogger(JournalPublisher.class);

  public record Settings(
      String publisherId,
      String topic,
      String bootstrapServers,
      int maxRowsPerPoll,
      Duration pollInterval,
      Duration gapGrace) {

    /**
     * The timings from {@code shrivenquant.replication.publisher} (replication's reference.conf).
     */
    public static Settings fromConfig(
        Config config, String publisherId, String topic, String bootstrapServers) {
      Config c = config.getConfig("shrivenquant.replication.publisher");
      return new Settings(
          publisherId,
          topic,
          bootstrapServers,
          c.getInt("max-rows-per-poll"),
          c.getDuration("poll-interval"),
          c.getDuration("gap-grace"));
    }
  }

  private final UniqueKillSwitch killSwitch;
  private final CompletionStage<Done> done;

  private JournalPublisher(UniqueKillSwitch killSwitch, CompletionStage<Done> done) {
    this.killSwitch = killSwitch;
    this.done = done;
  }

  /**
   * @param epoch the writer's epoch for the rows published now (the region's current epoch)
   */
  public static JournalPublisher start(
      ActorSystem<?> system, DataSource journal, Settings settings, LongSupplier epoch)
      throws java.sql.SQLException {
    PublisherPosition position = new PublisherPosition(journal, settings.publisherId());
    Executor blocking = system.dispatchers().lookup(akka.actor.typed.DispatcherSelector.blocking());
    ProducerSettings<String, byte[]> producer =
        ProducerSettings.create(system, new StringSerializer(), new ByteArraySerializer())
            .withBootstrapServers(settings.bootstrapServers())
            .withProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true")
            .withProperty(ProducerConfig.ACKS_CONFIG, "all")
            .withProperty(ProducerConfig.LINGER_MS_CONFIG, "1");

    // Any failure (broker or database gone) restarts from the stored position: records the
    // broker had not acknowledged are published again; the applier keeps the first copy.
    Pair<UniqueKillSwitch, CompletionStage<Done>> running =
        RestartSource.onFailuresWithBackoff(
                RestartSettings.create(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2),
                // The position is read inside the stream: if the database is down, that is a
                // stream failure, retried with backoff (a factory that throws would end it).
                () ->
                    Source.completionStageSource(
                        CompletableFuture.supplyAsync(
                            () -> {
                              long start = load(position);
                              log.info(
                                  "Publishing journal from ordering {} to topic {}",
                                  start,
                                  settings.topic());
                              JournalTailer tailer =
                                  new JournalTailer(
                                      journal,
                                      start,
                                      settings.maxRowsPerPoll(),
                                      settings.gapGrace());
                              return Source.tick(Duration.ZERO, settings.pollInterval(), "poll")
                                  .mapAsync(
                                      1,
                                      t ->
                                          CompletableFuture.supplyAsync(
                                              () -> poll(tailer), blocking))
                                  .filter(b -> !b.rows().isEmpty() || !b.skipped().isEmpty())
                                  .map(b -> envelope(settings.topic(), b, epoch.getAsLong()))
                                  .via(Producer.flexiFlow(producer))
                                  .mapAsync(
                                      1,
                                      result ->
                                          CompletableFuture.supplyAsync(
                                              () -> {
                                                JournalTailer.Batch b = result.passThrough();
                                                save(position, b.lastOrdering(), b.skipped());
                                                if (!b.skipped().isEmpty() && log.isDebugEnabled())
                                                  log.debug(
                                                      "Orderings {} were rolled back and never existed (recorded in"
                                                          + " replication_skipped_ordering)",
                                                      b.skipped());
                                                return Done.getInstance();
                                              },
                                              blocking));
                            },
                            blocking)))
            .viaMat(KillSwitches.single(), Keep.right())
            .toMat(Sink.ignore(), Keep.both())
            .run(system);
    running
        .second()
        .whenComplete(
            (d, e) -> {
              if (e != null) log.error("Publisher stopped for good", e);
            });
    return new JournalPublisher(running.first(), running.second());
  }

  private static ProducerMessage.Envelope<String, byte[], JournalTailer.Batch> envelope(
      String topic, JournalTailer.Batch b, long epoch) {
    if (b.rows().isEmpty()) return ProducerMessage.passThrough(b);
    List<ProducerRecord<String, byte[]>> records =
        b.rows().stream().map(r -> RecordCodec.toRecord(topic, r, epoch)).toList();
    return ProducerMessage.multi(records, b);
  }

  private static JournalTailer.Batch poll(JournalTailer tailer) {
    try {
      return tailer.poll();
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("journal poll failed", e);
    }
  }

  private static long load(PublisherPosition position) {
    try {
      return position.load();
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("could not read the publisher position", e);
    }
  }

  private static void save(PublisherPosition position, long last, List<Long> skipped) {
    try {
      position.save(last, skipped);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("could not store the publisher position", e);
    }
  }

  /** Completes when the stream stops (normally after {@link #stop}, or with its failure). */
  public CompletionStage<Done> done() {
    return done;
  }

  public void stop() {
    killSwitch.shutdown();
  }
}
