package com.shrivenquant.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.shrivenquant.engine.EngineSettings;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.Side;
import com.shrivenquant.engine.core.TimeInForce;
import com.shrivenquant.engine.instrument.InstrumentEntity.Placed;
import com.shrivenquant.engine.instrument.OrderEntry;
import com.shrivenquant.replication.apply.StandbyApplier;
import com.shrivenquant.replication.publish.JournalPublisher;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.KafkaExtension;
import com.shrivenquant.testkit.PostgresExtension;
import com.shrivenquant.testkit.infra.FreePorts;
import com.shrivenquant.testkit.infra.LocalPostgres;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Region 1 (its own PostgreSQL) journals orders for 16 instruments written concurrently; the
 * publisher tails it into a real Kafka broker; the applier writes region 2's journal (another
 * PostgreSQL). Every (persistence id, sequence number) arrives exactly once, byte-identical, and
 * the entities recovered in region 2 have region 1's state.
 */
class ReplicationIT {
  static final String TOPIC = "journal-region-1";
  static final int INSTRUMENTS = 16;

  @RegisterExtension
  @Order(1)
  static final PostgresExtension region1 =
      new PostgresExtension("region1", JournalFixtures::migrate);

  @RegisterExtension
  @Order(2)
  static final PostgresExtension region2 =
      new PostgresExtension("region2", JournalFixtures::migrate);

  @RegisterExtension
  @Order(3)
  static final KafkaExtension kafka = new KafkaExtension();

  static ActorSystem<Void> system1;
  static OrderEntry entry1;

  @BeforeAll
  static void startRegion1() throws Exception {
    kafka.broker().createTopic(TOPIC, 8);
    system1 = regionSystem("region1", region1.database());
    entry1 = OrderEntry.start(system1, EngineSettings.fromConfig(system1.settings().config()));
  }

  @AfterAll
  static void stop() throws Exception {
    if (system1 != null) {
      system1.terminate();
      system1.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void everyEventArrivesExactlyOnceByteIdenticalAndRecoversToTheSameState() throws Exception {
    // 16 instruments written concurrently, each by many in-flight orders (group commit).
    List<CompletableFuture<?>> acks = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      for (int s = 0; s < INSTRUMENTS; s++) {
        OrderRequest r =
            OrderRequest.limit(
                "acct-" + (i % 5),
                "c-" + i,
                i % 2 == 0 ? Side.BUY : Side.SELL,
                10_000 + (i % 7) - 3,
                1 + i % 4,
                i % 9 == 0 ? TimeInForce.IOC : TimeInForce.GTC);
        acks.add(entry1.place(symbol(s), r).toCompletableFuture());
      }
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    for (CompletableFuture<?> a : acks) assertInstanceOf(Placed.class, a.get());

    JournalPublisher publisher =
        JournalPublisher.start(
            system1,
            region1.dataSource(),
            new JournalPublisher.Settings(
                "region-1",
                TOPIC,
                kafka.bootstrapServers(),
                500,
                Duration.ofMillis(5),
                Duration.ofSeconds(1),
                Duration.ofMillis(500),
                Duration.ofMillis(100)),
            () -> 1L);
    long exportedBefore = exportedLagCount();
    StandbyApplier applier =
        StandbyApplier.start(
            system1,
            region2.dataSource(),
            new StandbyApplier.Settings(
                "region-2-applier", TOPIC, kafka.bootstrapServers(), 500, Duration.ofMillis(20)),
            1L);
    try {
      long expected = region1.countRows("event_journal");
      awaitPublished(Duration.ofSeconds(60));
      applier.drain(Duration.ofSeconds(60)).toCompletableFuture().get(70, TimeUnit.SECONDS);
      org.HdrHistogram.Histogram lag = applier.lagSinceLastCall();
      // drain() completes when the last batch's offsets are committed; that batch's lags are
      // recorded just after the commit, so both counts may still be moving for a moment.
      Eventually.await(
          "the last batch's lags recorded and exported",
          Duration.ofSeconds(5),
          () -> {
            lag.add(applier.lagSinceLastCall());
            return lag.getTotalCount() == exportedLagCount() - exportedBefore;
          });
      System.out.printf(
          "ReplicationIT: %d events from %d concurrent writers replicated; lag (write in"
              + " region 1 -> commit in region 2, includes the backlog of a publisher started after"
              + " the writes) p50 %d ms, max %d ms%n",
          expected, INSTRUMENTS, lag.getValueAtPercentile(50) / 1000, lag.getMaxValue() / 1000);
      assertEquals(
          lag.getTotalCount(),
          exportedLagCount() - exportedBefore,
          "the Prometheus histogram (sq_replication_lag_seconds) has every record's lag too");

      Map<String, byte[]> source = JournalFixtures.payloads(region1.dataSource());
      Map<String, byte[]> replica = JournalFixtures.payloads(region2.dataSource());
      assertEquals(
          source.keySet(), replica.keySet(), "every (persistence id, sequence number) once");
      for (Map.Entry<String, byte[]> e : source.entrySet())
        assertArrayEquals(e.getValue(), replica.get(e.getKey()), "bytes of " + e.getKey());
      assertEquals(expected, region2.countRows("event_journal"), "nothing applied twice");

      Map<String, String> digests1 = digests(entry1);
      ActorSystem<Void> system2 = regionSystem("region2", region2.database());
      try {
        OrderEntry entry2 =
            OrderEntry.start(system2, EngineSettings.fromConfig(system2.settings().config()));
        assertEquals(digests1, digests(entry2), "entities recovered in region 2 equal region 1's");
      } finally {
        system2.terminate();
        system2.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }

      // A record written under an older epoch than the applier's current one is refused.
      applier.fenceBelow(2);
      long before = region2.countRows("event_journal");
      OrderRequest late =
          OrderRequest.limit("late", "late-1", Side.BUY, 10_000, 1, TimeInForce.GTC);
      assertInstanceOf(
          Placed.class,
          entry1.place(symbol(0), late).toCompletableFuture().get(10, TimeUnit.SECONDS));
      awaitRows(region2, before, Duration.ofSeconds(5));
      Eventually.await(
          "the stale record refused",
          Duration.ofSeconds(30),
          () -> region2.countRows("replication_refused") > 0);
      assertEquals(
          1, region2.countRows("replication_refused"), "the stale-epoch record is reported");
      assertEquals(
          before, region2.countRows("event_journal"), "and nothing of it reaches the journal");
    } finally {
      publisher.stop();
      applier.stop().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  static String symbol(int s) {
    return String.format("SYM%03d", s);
  }

  static ActorSystem<Void> regionSystem(String name, LocalPostgres.Database db) {
    Config config =
        ConfigFactory.parseString(
                "akka.actor.provider = cluster\n"
                    + "akka.remote.artery.canonical.hostname = 127.0.0.1\n"
                    + "akka.remote.artery.canonical.port = "
                    + FreePorts.freePort()
                    + "\n"
                    + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                    + "akka.actor.allow-java-serialization = off\n"
                    // 4,800 orders are sent at once: the last in an instrument's queue may wait
                    // longer than a client would on a loaded machine; this test is about
                    // replication, not latency.
                    + "shrivenquant.engine.ask-timeout = 60s\n"
                    + "shrivenquant.engine.synthetic-instruments.count = "
                    + INSTRUMENTS
                    + "\n")
            .withFallback(db.akkaPersistenceJdbcConfig())
            .withFallback(ConfigFactory.parseResources("shrivenquant-journal.conf"))
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), name, config);
    Cluster.get(system).manager().tell(Join.create(Cluster.get(system).selfMember().address()));
    return system;
  }

  static Map<String, String> digests(OrderEntry entry) throws Exception {
    Map<String, String> out = new HashMap<>();
    for (int s = 0; s < INSTRUMENTS; s++)
      out.put(
          symbol(s),
          entry.digest(symbol(s)).toCompletableFuture().get(30, TimeUnit.SECONDS).digest());
    return out;
  }

  /** Until the publisher's stored position covers every row region 1 has now. */
  /** Records in Kamon's sq.replication.lag histogram so far (Kamon need not run to record). */
  @SuppressWarnings("unchecked")
  static long exportedLagCount() {
    return ((kamon.metric.Instrument.Snapshotting<kamon.metric.Distribution>)
            kamon.Kamon.histogram("sq.replication.lag").withoutTags())
        .snapshot(false)
        .count();
  }

  static void awaitPublished(Duration timeout) throws Exception {
    long max;
    try (Connection c = region1.dataSource().getConnection();
        ResultSet rs =
            c.createStatement().executeQuery("SELECT max(ordering) FROM event_journal")) {
      rs.next();
      max = rs.getLong(1);
    }
    Eventually.await(
        "publisher at ordering " + max,
        timeout,
        () -> {
          try (Connection c = region1.dataSource().getConnection();
              ResultSet rs =
                  c.createStatement()
                      .executeQuery(
                          "SELECT coalesce(max(last_ordering), 0) FROM replication_publisher_position")) {
            rs.next();
            return rs.getLong(1);
          }
        },
        at -> at >= max);
  }

  static void awaitRows(PostgresExtension region, long rows, Duration timeout) throws Exception {
    Eventually.await(
        rows + " rows in the replica",
        timeout,
        () -> region.countRows("event_journal"),
        n -> n >= rows);
  }
}
