package com.shrivenquant.engine.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import com.shrivenquant.engine.EngineSettings;
import com.shrivenquant.engine.EngineSettings.InstrumentSpec;
import com.shrivenquant.engine.core.EngineSnapshot;
import com.shrivenquant.engine.core.EngineSnapshotBytes;
import com.shrivenquant.engine.core.InstrumentEngine;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.RiskLimits;
import com.shrivenquant.engine.core.Side;
import com.shrivenquant.engine.core.TimeInForce;
import com.shrivenquant.engine.instrument.InstrumentEntity.Command;
import com.shrivenquant.engine.instrument.InstrumentEntity.DigestReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetDigest;
import com.shrivenquant.engine.instrument.InstrumentEntity.NotPlaced;
import com.shrivenquant.engine.instrument.InstrumentEntity.Place;
import com.shrivenquant.engine.instrument.InstrumentEntity.PlaceReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.Placed;
import com.shrivenquant.engine.persistence.JournalSchema;
import com.shrivenquant.testkit.ActorTestKitExtension;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.PostgresExtension;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The journaled instrument on a real PostgreSQL: group commit, idempotency across recovery,
 * snapshots.
 */
class InstrumentEntityIT {
  static final RiskLimits LIMITS = new RiskLimits(1_000, 1_000_000_000L, 1_000, 1_000_000, 100_000);

  @RegisterExtension
  @Order(1)
  static final PostgresExtension postgres = new PostgresExtension(JournalSchema::migrate);

  @RegisterExtension
  @Order(2)
  static final ActorTestKitExtension testKit =
      new ActorTestKitExtension(
          () ->
              postgres
                  .akkaPersistenceJdbcConfig()
                  .withFallback(ConfigFactory.parseString("akka.actor.provider = local"))
                  .withFallback(ConfigFactory.parseResources("shrivenquant-journal.conf"))
                  .withFallback(ConfigFactory.defaultReference())
                  .resolve());

  static EngineSettings settings(String symbol, int maxQueue, int snapshotEvery) {
    return settings(symbol, 1000, maxQueue, snapshotEvery);
  }

  static EngineSettings settings(String symbol, int maxBatch, int maxQueue, int snapshotEvery) {
    return settings(symbol, maxBatch, maxQueue, snapshotEvery, 50_000);
  }

  static EngineSettings settings(
      String symbol, int maxBatch, int maxQueue, int snapshotEvery, int retained) {
    return new EngineSettings(
        Duration.ofSeconds(10),
        maxBatch,
        maxQueue,
        snapshotEvery,
        retained,
        Map.of(symbol, new InstrumentSpec(symbol, 10_000, LIMITS)));
  }

  static OrderRequest order(int i) {
    // Alternating sides around one price: many of them trade.
    return OrderRequest.limit(
        "acct-" + (i % 7),
        "c-" + i,
        i % 2 == 0 ? Side.BUY : Side.SELL,
        10_000 + (i % 5) - 2,
        1 + i % 3,
        i % 11 == 0 ? TimeInForce.IOC : TimeInForce.GTC);
  }

  @Test
  void ordersQueuedBehindAWriteAreCommittedTogetherEachAnsweredOnItsOwn() {
    String symbol = "GROUP";
    var entity = testKit.spawn(InstrumentEntity.create(symbol, settings(symbol, 50_000, 100_000)));
    TestProbe<PlaceReply> probe = testKit.createTestProbe();
    int n = 2_000;
    for (int i = 0; i < n; i++) entity.tell(new Place(order(i), probe.getRef()));

    Map<String, Placed> byClientId = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Placed p = assertInstanceOf(Placed.class, probe.receiveMessage(Duration.ofSeconds(30)));
      byClientId.put(p.outcome().clientOrderId(), p);
    }
    assertEquals(n, byClientId.size(), "every order answered once, with its own outcome");
    String pid = InstrumentEntity.persistenceId(symbol).id();
    assertEquals(
        n, rows("select count(*) from event_journal where persistence_id = '" + pid + "'"));
    long transactions =
        rows(
            "select count(distinct xmin::text) from event_journal where persistence_id = '"
                + pid
                + "'");
    System.out.printf("group commit: %d orders in %d journal transactions%n", n, transactions);
    assertTrue(transactions < n / 10, "orders were batched: " + transactions + " transactions");
  }

  @Test
  void withoutGroupCommitEachOrderIsItsOwnTransaction() {
    // The control for the test above: the transaction count does see unbatched writes.
    String symbol = "SINGLE";
    var entity =
        testKit.spawn(InstrumentEntity.create(symbol, settings(symbol, 1, 50_000, 100_000)));
    TestProbe<PlaceReply> probe = testKit.createTestProbe();
    int n = 200;
    for (int i = 0; i < n; i++) entity.tell(new Place(order(i), probe.getRef()));
    for (int i = 0; i < n; i++)
      assertInstanceOf(Placed.class, probe.receiveMessage(Duration.ofSeconds(30)));
    String pid = InstrumentEntity.persistenceId(symbol).id();
    assertEquals(
        n,
        rows(
            "select count(distinct xmin::text) from event_journal where persistence_id = '"
                + pid
                + "'"));
  }

  @Test
  void aRepeatedClientOrderIdNeverExecutesTwiceAlsoAfterRecoveryFromJournalAndSnapshot() {
    String symbol = "IDEM";
    EngineSettings settings = settings(symbol, 50_000, 150); // snapshots along the way
    ActorRef<Command> entity = testKit.spawn(InstrumentEntity.create(symbol, settings));
    TestProbe<PlaceReply> probe = testKit.createTestProbe();
    List<Placed> first = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      entity.tell(new Place(order(i), probe.getRef()));
      first.add((Placed) probe.receiveMessage(Duration.ofSeconds(10)));
    }
    String digest = digest(entity);
    String pid = InstrumentEntity.persistenceId(symbol).id();
    long journal = rows("select count(*) from event_journal where persistence_id = '" + pid + "'");
    assertTrue(
        rows("select count(*) from snapshot where persistence_id = '" + pid + "'") > 0,
        "snapshots were taken");

    testKit.stop(entity);
    ActorRef<Command> recovered = testKit.spawn(InstrumentEntity.create(symbol, settings));
    assertEquals(digest, digest(recovered), "state after recovery");
    for (int i = 0; i < 400; i += 37) {
      recovered.tell(new Place(order(i), probe.getRef()));
      assertEquals(
          first.get(i), probe.receiveMessage(Duration.ofSeconds(10)), "first outcome again");
    }
    assertEquals(
        journal,
        rows("select count(*) from event_journal where persistence_id = '" + pid + "'"),
        "repeats persisted nothing");
    assertEquals(digest, digest(recovered), "repeats changed nothing");
  }

  @Test
  void aSmallIdempotencyWindowRecoversToTheSameStateAndForgetsOnlyOldCompletedOrders() {
    String symbol = "WINDOW";
    EngineSettings settings = settings(symbol, 1000, 50_000, 25, 10);
    ActorRef<Command> entity = testKit.spawn(InstrumentEntity.create(symbol, settings));
    TestProbe<PlaceReply> probe = testKit.createTestProbe();
    List<Placed> first = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      // IOC orders far from the book: each completes (cancelled) at once.
      entity.tell(
          new Place(
              OrderRequest.limit("a", "w-" + i, Side.BUY, 9_500, 1, TimeInForce.IOC),
              probe.getRef()));
      first.add((Placed) probe.receiveMessage(Duration.ofSeconds(10)));
    }
    String digest = digest(entity);
    testKit.stop(entity);
    ActorRef<Command> recovered = testKit.spawn(InstrumentEntity.create(symbol, settings));
    assertEquals(digest, digest(recovered), "same state after journal and snapshot recovery");

    String pid = InstrumentEntity.persistenceId(symbol).id();
    long journal = rows("select count(*) from event_journal where persistence_id = '" + pid + "'");
    recovered.tell(
        new Place(
            OrderRequest.limit("a", "w-199", Side.BUY, 9_500, 1, TimeInForce.IOC), probe.getRef()));
    assertEquals(first.get(199), probe.receiveMessage(Duration.ofSeconds(10)), "inside the window");
    recovered.tell(
        new Place(
            OrderRequest.limit("a", "w-0", Side.BUY, 9_500, 1, TimeInForce.IOC), probe.getRef()));
    Placed again = (Placed) probe.receiveMessage(Duration.ofSeconds(10));
    assertTrue(
        again.outcome().orderId() > first.get(199).outcome().orderId(),
        "outside the window the id is a new order");
    assertEquals(
        journal + 1,
        rows("select count(*) from event_journal where persistence_id = '" + pid + "'"));
  }

  @Test
  void ordersBeyondTheQueueAreRefusedPersistNothingAndMayBeRetried() {
    String symbol = "FULL";
    var entity = testKit.spawn(InstrumentEntity.create(symbol, settings(symbol, 10, 100_000)));
    TestProbe<PlaceReply> probe = testKit.createTestProbe();
    for (int i = 0; i < 300; i++) entity.tell(new Place(order(i), probe.getRef()));
    int placed = 0;
    List<Integer> refused = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      PlaceReply r = probe.receiveMessage(Duration.ofSeconds(10));
      if (r instanceof Placed) placed++;
    }
    String pid = InstrumentEntity.persistenceId(symbol).id();
    assertTrue(placed < 300, "the bounded queue refused some");
    assertEquals(
        placed,
        rows("select count(*) from event_journal where persistence_id = '" + pid + "'"),
        "refused orders persisted nothing");
    // Retrying everything: the placed ones answer from memory, the refused ones now execute.
    for (int i = 0; i < 300; i++) {
      entity.tell(new Place(order(i), probe.getRef()));
      PlaceReply r = probe.receiveMessage(Duration.ofSeconds(10));
      if (r instanceof NotPlaced) refused.add(i);
    }
    assertEquals(List.of(), refused, "one at a time, nothing is refused");
    assertEquals(
        300, rows("select count(*) from event_journal where persistence_id = '" + pid + "'"));
  }

  @Test
  void aMarketOrderReplaysWithItsJournaledProtectionPriceWhenLimitsChanged() {
    String symbol = "MKT";
    ActorRef<Command> entity =
        testKit.spawn(InstrumentEntity.create(symbol, settings(symbol, 50_000, 100_000)));
    TestProbe<PlaceReply> probe = testKit.createTestProbe();
    for (int i = 0; i < 9; i++) {
      entity.tell(
          new Place(
              OrderRequest.limit("mm", "ask-" + i, Side.SELL, 10_000 + 100 * i, 1, TimeInForce.GTC),
              probe.getRef()));
      probe.receiveMessage(Duration.ofSeconds(10));
    }
    // Band 10%: protection 11,000, so the market buy sweeps all nine levels.
    entity.tell(new Place(OrderRequest.market("taker", "mkt-1", Side.BUY, 9), probe.getRef()));
    Placed swept = (Placed) probe.receiveMessage(Duration.ofSeconds(10));
    assertEquals(9, swept.outcome().filledQuantity());
    String digest = digest(entity);
    testKit.stop(entity);

    // Narrower band now (1%): recomputing the protection price would fill only two levels.
    RiskLimits narrow = new RiskLimits(1_000, 1_000_000_000L, 100, 1_000_000, 100_000);
    EngineSettings changed =
        new EngineSettings(
            Duration.ofSeconds(10),
            1000,
            50_000,
            100_000,
            50_000,
            Map.of(symbol, new InstrumentSpec(symbol, 10_000, narrow)));
    ActorRef<Command> recovered = testKit.spawn(InstrumentEntity.create(symbol, changed));
    assertEquals(digest, digest(recovered), "replay used the journaled protection price");
  }

  @Test
  void snapshotsAreBinaryAndRecoveryFromOneWithTheEventsBeforeItDeletedGivesTheSameState()
      throws InterruptedException {
    String symbol = "BINSNAP";
    EngineSettings settings = settings(symbol, 1000, 50_000, 100, 20); // small window: evictions
    ActorRef<Command> entity = testKit.spawn(InstrumentEntity.create(symbol, settings));
    TestProbe<PlaceReply> probe = testKit.createTestProbe();
    InstrumentEngine plain = new InstrumentEngine(symbol, 10_000, LIMITS, 20);
    for (int i = 0; i < 350; i++) {
      entity.tell(new Place(order(i), probe.getRef()));
      assertEquals(new Placed(plain.place(order(i))), probe.receiveMessage(Duration.ofSeconds(10)));
    }
    String digest = digest(entity);
    assertEquals(
        plain.stateDigest(),
        digest,
        "the entity holds what a plain engine given the same orders holds");

    String pid = InstrumentEntity.persistenceId(symbol).id();
    long snapshotAt = awaitSnapshot(pid, 300);
    assertEquals(
        0,
        rows(
            "select count(*) from snapshot where persistence_id = '"
                + pid
                + "' and snapshot_ser_manifest <> '"
                + EngineSnapshotBytes.class.getName()
                + "'"),
        "every snapshot is in the binary form");
    long payload =
        rows(
            "select max(octet_length(snapshot_payload)) from snapshot where persistence_id = '"
                + pid
                + "'");
    System.out.printf(
        "binary snapshot at %d: %d bytes in the snapshot table%n", snapshotAt, payload);
    testKit.stop(entity);
    // Only the snapshot can bring back the state before it now.
    execute(
        "delete from event_journal where persistence_id = '"
            + pid
            + "' and sequence_number <= "
            + snapshotAt);

    ActorRef<Command> recovered = testKit.spawn(InstrumentEntity.create(symbol, settings));
    assertEquals(
        digest, digest(recovered), "recovered from the binary snapshot and the events after it");
    // It goes on like the plain engine: retries within the window, new orders after it.
    for (int i = 340; i < 360; i++) {
      recovered.tell(new Place(order(i), probe.getRef()));
      assertEquals(
          new Placed(plain.place(order(i))),
          probe.receiveMessage(Duration.ofSeconds(10)),
          "order " + i);
    }
    assertEquals(plain.stateDigest(), digest(recovered));
  }

  @Test
  void aSnapshotInTheOlderRecordFormIsStillRecovered() throws Exception {
    // Databases written before snapshots were binary hold EngineSnapshot records.
    String symbol = "LEGACY";
    EngineSettings settings =
        settings(symbol, 1000, 50_000, 100_000, 50_000); // no snapshots of its own
    ActorRef<Command> entity = testKit.spawn(InstrumentEntity.create(symbol, settings));
    TestProbe<PlaceReply> probe = testKit.createTestProbe();
    InstrumentEngine plain = new InstrumentEngine(symbol, 10_000, LIMITS, 50_000);
    int snapshotAt = 250;
    EngineSnapshot old = null;
    for (int i = 0; i < 300; i++) {
      entity.tell(new Place(order(i), probe.getRef()));
      assertInstanceOf(Placed.class, probe.receiveMessage(Duration.ofSeconds(10)));
      plain.place(order(i));
      if (i + 1 == snapshotAt) old = plain.snapshot(); // one event per order: sequence number i + 1
    }
    String digest = digest(entity);
    assertEquals(plain.stateDigest(), digest);
    testKit.stop(entity);

    String pid = InstrumentEntity.persistenceId(symbol).id();
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    Serializer serializer = serialization.findSerializerFor(old);
    try (var c = postgres.dataSource().getConnection();
        var insert =
            c.prepareStatement(
                "insert into snapshot (persistence_id, sequence_number, created,"
                    + " snapshot_ser_id, snapshot_ser_manifest, snapshot_payload) values (?, ?, ?, ?, ?, ?)")) {
      insert.setString(1, pid);
      insert.setLong(2, snapshotAt);
      insert.setLong(3, System.currentTimeMillis());
      insert.setInt(4, serializer.identifier());
      insert.setString(5, Serializers.manifestFor(serializer, old));
      insert.setBytes(6, serializer.toBinary(old));
      insert.executeUpdate();
    }
    assertEquals(
        EngineSnapshot.class.getName(),
        text("select snapshot_ser_manifest from snapshot where persistence_id = '" + pid + "'"));
    execute(
        "delete from event_journal where persistence_id = '"
            + pid
            + "' and sequence_number <= "
            + snapshotAt);

    ActorRef<Command> recovered = testKit.spawn(InstrumentEntity.create(symbol, settings));
    assertEquals(
        digest, digest(recovered), "recovered from the record snapshot and the events after it");
  }

  /** Waits for a snapshot at or after the sequence number; returns the latest one's. */
  static long awaitSnapshot(String pid, long atLeast) throws InterruptedException {
    return Eventually.await(
        "a snapshot at " + atLeast + " or later",
        Duration.ofSeconds(20),
        () ->
            rows(
                "select coalesce(max(sequence_number), 0) from snapshot where persistence_id = '"
                    + pid
                    + "'"),
        at -> at >= atLeast);
  }

  static void execute(String sql) {
    try (var c = postgres.dataSource().getConnection();
        var s = c.createStatement()) {
      s.executeUpdate(sql);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static String text(String sql) {
    try (var c = postgres.dataSource().getConnection();
        var s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static String digest(ActorRef<Command> entity) {
    TestProbe<DigestReply> p = testKit.createTestProbe();
    entity.tell(new GetDigest(p.getRef()));
    return p.receiveMessage(Duration.ofSeconds(30)).digest();
  }

  static long rows(String sql) {
    try (var c = postgres.dataSource().getConnection();
        var s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
