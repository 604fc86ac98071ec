package com.shrivenquant.replication.publish;

import akka.Done;
import akka.NotUsed;
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
import com.shrivenquant.replication.journal.JournalCommitWatcher;
import com.shrivenquant.replication.journal.JournalTailer;
import com.shrivenquant.replication.journal.RecordCodec;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;
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
 * stay in order within a partition. Idempotent producer, acks=all.
 *
 * <p>Nothing on an acknowledgement's path waits for a timer: the publisher reads the journal when
 * PostgreSQL notifies a commit ({@link JournalCommitWatcher}), produces at once (no linger) while
 * earlier batches are still in flight (the idempotent producer keeps them in order), and reports
 * each batch's position to its listener the moment the broker acknowledged it and every batch
 * before it. Timers remain only off that path: a missing ordering is re-checked every {@code
 * gapRecheckInterval} until it fills or is proven rolled back, an idle journal is re-read every
 * {@code idleRecheckInterval} in case a notification was lost, and the position is stored for
 * restarts at most every {@code positionStoreInterval} ({@link PositionRecorder}). A crash
 * re-publishes from the stored position (the applier ignores rows it already has) and never skips.
 */
public final class JournalPublisher {
  private static final Logger log = LoggerFactory.getLogger(JournalPublisher.class);

  public record Settings(
      String publisherId,
      String topic,
      String bootstrapServers,
      int maxRowsPerPoll,
      Duration gapRecheckInterval,
      Duration idleRecheckInterval,
      Duration gapGrace,
      Duration positionStoreInterval) {

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
          c.getDuration("gap-recheck-interval"),
          c.getDuration("idle-recheck-interval"),
          c.getDuration("gap-grace"),
          c.getDuration("position-store-interval"));
    }
  }

  private final UniqueKillSwitch killSwitch;
  private final CompletionStage<Done> done;
  private final PositionRecorder recorder;

  private JournalPublisher(
      UniqueKillSwitch killSwitch, CompletionStage<Done> done, PositionRecorder recorder) {
    this.killSwitch = killSwitch;
    this.done = done;
    this.recorder = recorder;
  }

  /** As {@link #start(ActorSystem, DataSource, Settings, LongSupplier, LongConsumer)}, unheard. */
  public static JournalPublisher start(
      ActorSystem<?> system, DataSource journal, Settings settings, LongSupplier epoch) {
    return start(system, journal, settings, epoch, upTo -> {});
  }

  /**
   * @param epoch the writer's epoch for the rows published now (the region's current epoch)
   * @param acknowledged called with the new position each time the broker has acknowledged every
   *     row up to it (on the stream's thread: hand it on, do not block)
   */
  public static JournalPublisher start(
      ActorSystem<?> system,
      DataSource journal,
      Settings settings,
      LongSupplier epoch,
      LongConsumer acknowledged) {
    PublisherPosition position = new PublisherPosition(journal, settings.publisherId());
    PositionRecorder recorder =
        new PositionRecorder(system, position, settings.positionStoreInterval());
    JournalCommitWatcher commits = new JournalCommitWatcher(journal, settings.publisherId());
    Executor blocking = system.dispatchers().lookup(akka.actor.typed.DispatcherSelector.blocking());
    ProducerSettings<String, byte[]> producer =
        ProducerSettings.create(system, new StringSerializer(), new ByteArraySerializer())
            .withBootstrapServers(settings.bootstrapServers())
            .withProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true")
            .withProperty(ProducerConfig.ACKS_CONFIG, "all")
            .withProperty(ProducerConfig.LINGER_MS_CONFIG, "0");

    // Any failure (broker or database gone) restarts from the acknowledged position: records the
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
                              long start = recorder.resumeFrom(load(position));
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
                              return Source.repeat(NotUsed.getInstance())
                                  .mapAsync(1, x -> nextBatch(tailer, commits, settings, blocking))
                                  .map(b -> envelope(settings.topic(), b, epoch.getAsLong()))
                                  .via(Producer.flexiFlow(producer))
                                  .map(
                                      result -> {
                                        JournalTailer.Batch b = result.passThrough();
                                        recorder.acknowledged(b.lastOrdering(), b.skipped());
                                        acknowledged.accept(recorder.acknowledged());
                                        return Done.getInstance();
                                      });
                            },
                            blocking)))
            .viaMat(KillSwitches.single(), Keep.right())
            .toMat(Sink.ignore(), Keep.both())
            .run(system);
    CompletionStage<Done> finished =
        running
            .second()
            .whenCompleteAsync(
                (d, e) -> {
                  commits.close();
                  recorder.flush();
                  if (e != null) log.error("Publisher stopped for good", e);
                },
                blocking);
    return new JournalPublisher(running.first(), finished, recorder);
  }

  /**
   * The next non-empty batch: read now; if nothing is there, wait for a commit (or a re-check
   * bound) and read again. One future per batch, completed from the loop (no chain of futures grows
   * while the journal is idle).
   */
  private static CompletionStage<JournalTailer.Batch> nextBatch(
      JournalTailer tailer, JournalCommitWatcher commits, Settings settings, Executor blocking) {
    CompletableFuture<JournalTailer.Batch> next = new CompletableFuture<>();
    attempt(next, tailer, commits, settings, blocking);
    return next;
  }

  private static void attempt(
      CompletableFuture<JournalTailer.Batch> next,
      JournalTailer tailer,
      JournalCommitWatcher commits,
      Settings settings,
      Executor blocking) {
    long seen = commits.version(); // before the read: a commit during it ends the wait below
    CompletableFuture.supplyAsync(() -> poll(tailer), blocking)
        .whenComplete(
            (b, e) -> {
              if (e != null) {
                next.completeExceptionally(e);
              } else if (!b.rows().isEmpty() || !b.skipped().isEmpty()) {
                next.complete(b);
              } else {
                Duration bound =
                    tailer.blockedByGap()
                        ? settings.gapRecheckInterval()
                        : settings.idleRecheckInterval();
                commits
                    .awaitChange(seen, bound)
                    .thenRun(() -> attempt(next, tailer, commits, settings, blocking));
              }
            });
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

  /** Completes when the stream stops (normally after {@link #stop}, or with its failure). */
  public CompletionStage<Done> done() {
    return done;
  }

  /** Every row up to here is acknowledged by the broker (in memory; stored a little later). */
  public long acknowledgedUpTo() {
    return recorder.acknowledged();
  }

  /** Stops; {@link #done()} completes once the acknowledged position is stored. */
  public void stop() {
    killSwitch.shutdown();
  }
}
