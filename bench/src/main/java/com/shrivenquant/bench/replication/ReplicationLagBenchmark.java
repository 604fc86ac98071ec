package com.shrivenquant.bench.replication;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.shrivenquant.engine.persistence.JournalSchema;
import com.shrivenquant.replication.ReplicationDataSource;
import com.shrivenquant.replication.ReplicationSchema;
import com.shrivenquant.replication.apply.StandbyApplier;
import com.shrivenquant.replication.publish.JournalPublisher;
import com.shrivenquant.testkit.infra.KafkaBroker;
import com.shrivenquant.testkit.infra.LocalPostgres;
import com.typesafe.config.ConfigFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;

/**
 * {@code bin/shrivenquant bench replication}: end-to-end replication lag (journal write in region 1
 * -> commit in region 2's journal) at a fixed event rate, then the highest rate the pipeline keeps
 * up with. Two durable PostgreSQL servers, a real KRaft broker, publisher and applier in this JVM,
 * a paced writer inserting journal rows (10 per transaction) into region 1.
 */
public final class ReplicationLagBenchmark {
  static final String TOPIC = "journal-bench";

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    try (LocalPostgres pg1 = LocalPostgres.builder().name("lag-region1").durable(true).start();
        LocalPostgres pg2 = LocalPostgres.builder().name("lag-region2").durable(true).start();
        KafkaBroker broker = KafkaBroker.builder().name("lag-broker").start()) {
      LocalPostgres.Database r1 = pg1.createDatabase("region1");
      LocalPostgres.Database r2 = pg2.createDatabase("region2");
      for (DataSource ds : List.of(r1.dataSource(), r2.dataSource())) {
        JournalSchema.migrate(ds);
        ReplicationSchema.migrate(ds);
      }
      broker.createTopic(TOPIC, 8);
      ActorSystem<Void> system =
          ActorSystem.create(
              Behaviors.empty(),
              "lag-bench",
              ConfigFactory.parseString("akka.loglevel = WARNING")
                  .withFallback(ConfigFactory.load()));
      try {
        DataSource pool1 =
            ReplicationDataSource.pooled(r1.jdbcUrl(), r1.user(), r1.password(), "region1");
        DataSource pool2 =
            ReplicationDataSource.pooled(r2.jdbcUrl(), r2.user(), r2.password(), "region2");
        JournalPublisher.start(
            system,
            pool1,
            new JournalPublisher.Settings(
                "region-1",
                TOPIC,
                broker.bootstrapServers(),
                2000,
                Duration.ofMillis(2),
                Duration.ofSeconds(1),
                Duration.ofMillis(50),
                Duration.ofMillis(100)),
            () -> 1L);
        StandbyApplier applier =
            StandbyApplier.start(
                system,
                pool2,
                new StandbyApplier.Settings(
                    "region-2", TOPIC, broker.bootstrapServers(), 2000, Duration.ofMillis(5)),
                1L);

        System.out.println(
            "| events/s offered | s | written | applied | lag p50 ms | lag p99 ms | lag max ms |");
        System.out.println("|---|---|---|---|---|---|---|");
        run(r1.dataSource(), applier, 1000, 10, false); // warm-up
        run(r1.dataSource(), applier, 2000, seconds, true);
        for (int rate : new int[] {5000, 10000, 20000, 40000}) {
          if (!run(r1.dataSource(), applier, rate, 15, true)) break;
        }
      } finally {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get();
      }
    }
  }

  /** Writes at the rate, then reports the lag; "kept up" when p99 < 1 s and nothing is behind. */
  static boolean run(
      DataSource region1, StandbyApplier applier, int rate, int seconds, boolean print)
      throws Exception {
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicLong written = new AtomicLong();
    long appliedBefore = applier.applied();
    applier.lagSinceLastCall();
    Thread writer = new Thread(() -> write(region1, rate, writing, written), "paced-writer");
    writer.start();
    Thread.sleep(seconds * 1000L);
    writing.set(false);
    writer.join();
    Histogram lag = applier.lagSinceLastCall();
    long applied = applier.applied() - appliedBefore;
    boolean keptUp =
        lag.getTotalCount() > 0
            && lag.getValueAtPercentile(99) < 1_000_000
            && applied >= written.get() * 0.95;
    if (print) {
      System.out.printf(
          "| %d | %d | %d | %d | %.1f | %.1f | %.1f |%s%n",
          rate,
          seconds,
          written.get(),
          applied,
          lag.getValueAtPercentile(50) / 1000.0,
          lag.getValueAtPercentile(99) / 1000.0,
          lag.getMaxValue() / 1000.0,
          keptUp ? "" : " (fell behind)");
    }
    // Let the pipeline drain before the next step.
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (applier.applied() - appliedBefore < written.get() && System.nanoTime() < deadline)
      Thread.sleep(50);
    return keptUp;
  }

  static void write(DataSource ds, int rate, AtomicBoolean writing, AtomicLong written) {
    int perTx = 10;
    long intervalNanos = 1_000_000_000L * perTx / rate;
    SplittableRandom random = new SplittableRandom(rate);
    byte[] payload = new byte[180];
    String pid = "bench-" + rate;
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO event_journal (persistence_id, sequence_number, writer, write_timestamp,"
                    + " adapter_manifest, event_ser_id, event_ser_manifest, event_payload)"
                    + " VALUES (?, ?, 'bench', ?, '', 33, 'OrderAccepted', ?)")) {
      c.setAutoCommit(false);
      long seq = 0;
      long next = System.nanoTime();
      while (writing.get()) {
        long now = System.currentTimeMillis();
        for (int i = 0; i < perTx; i++) {
          random.nextBytes(payload);
          ps.setString(1, pid + "-" + (seq % 16));
          ps.setLong(2, seq / 16 + 1);
          ps.setLong(3, now);
          ps.setBytes(4, payload);
          ps.addBatch();
          seq++;
        }
        ps.executeBatch();
        c.commit();
        written.addAndGet(perTx);
        next += intervalNanos;
        long wait = next - System.nanoTime();
        if (wait > 0) LockSupport.parkNanos(wait);
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private ReplicationLagBenchmark() {}
}
