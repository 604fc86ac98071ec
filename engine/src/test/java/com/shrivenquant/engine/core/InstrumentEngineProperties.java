package com.shrivenquant.engine.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

/**
 * Random order/cancel streams through InstrumentEngine. Tight limits so that every reject reason,
 * duplicate clientOrderIds and foreign cancels all occur. Run with the default retention of
 * completed orders and with tiny ones (0..8), where completed records are forgotten all the time
 * and evicted clientOrderIds come back as new orders; a model of the window checks which records
 * the engine remembers, and in which completion order.
 */
class InstrumentEngineProperties {
  static final long REFERENCE = 1_000;
  static final RiskLimits LIMITS = new RiskLimits(100, 60_000, 1_000, 80, 3);
  static final String[] ACCOUNTS = {"a", "b", "c", "d"};

  @Provide
  Arbitrary<List<EngineDriver.Command>> commands() {
    Arbitrary<String> account = Arbitraries.of(ACCOUNTS);
    Arbitrary<String> cid =
        Arbitraries.integers()
            .between(0, 80)
            .withDistribution(RandomDistribution.uniform())
            .map(i -> "c" + i);
    Arbitrary<Long> qty =
        Arbitraries.frequencyOf(
            Tuple.of(
                9,
                Arbitraries.longs().between(1, 30).withDistribution(RandomDistribution.uniform())),
            Tuple.of(
                1,
                Arbitraries.longs()
                    .between(31, 150)
                    .withDistribution(RandomDistribution.uniform())));
    Arbitrary<EngineDriver.Command> limit =
        Combinators.combine(
                account,
                cid,
                Arbitraries.of(Side.class),
                Arbitraries.longs()
                    .between(890, 1110)
                    .withDistribution(RandomDistribution.uniform()),
                qty,
                Arbitraries.of(TimeInForce.class))
            .as(
                (a, c, side, price, q, tif) ->
                    new EngineDriver.Place(OrderRequest.limit(a, c, side, price, q, tif)));
    Arbitrary<EngineDriver.Command> market =
        Combinators.combine(account, cid, Arbitraries.of(Side.class), qty)
            .as((a, c, side, q) -> new EngineDriver.Place(OrderRequest.market(a, c, side, q)));
    // "own" is resolved to the order's owner when run, so that most cancels can succeed.
    Arbitrary<String> canceller =
        Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just("own")), Tuple.of(1, account));
    Arbitrary<EngineDriver.Command> cancel =
        Combinators.combine(
                canceller,
                Arbitraries.longs().between(0, 30).withDistribution(RandomDistribution.uniform()))
            .as(EngineDriver.Cancel::new);
    return Arbitraries.frequencyOf(Tuple.of(60, limit), Tuple.of(10, market), Tuple.of(30, cancel))
        .list()
        .ofMinSize(1)
        .ofMaxSize(120)
        .withSizeDistribution(RandomDistribution.uniform());
  }

  @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
  void invariantsHoldAndReplayGivesTheSameState(
      @ForAll("commands") List<EngineDriver.Command> commands,
      @ForAll @IntRange(min = 0, max = 120) int snapshotAt) {
    run(commands, snapshotAt, InstrumentEngine.DEFAULT_RETAINED_COMPLETED_ORDERS);
  }

  @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
  void withASmallRetentionWindowTheSameHoldsAndOnlyTheWindowIsRemembered(
      @ForAll("commands") List<EngineDriver.Command> commands,
      @ForAll @IntRange(min = 0, max = 120) int snapshotAt,
      @ForAll("smallRetention") int retention) {
    List<EngineDriver.Event> journal = run(commands, snapshotAt, retention);

    // A journal decided under one window replays under any other (e.g. after the configured
    // bound changed): the book, positions and counters do not depend on the window.
    InstrumentEngine live = new InstrumentEngine("X", REFERENCE, LIMITS, retention);
    EngineDriver.replay(live, journal);
    for (int other :
        new int[] {0, retention + 3, InstrumentEngine.DEFAULT_RETAINED_COMPLETED_ORDERS}) {
      InstrumentEngine e =
          new InstrumentEngine("X", REFERENCE, new RiskLimits(1, 1, 0, 0, 0), other);
      EngineDriver.replay(e, journal);
      assertEquals(
          live.restingOrders(), e.restingOrders(), "book replayed under retention " + other);
      assertEquals(live.positions(), e.positions(), "positions replayed under retention " + other);
      assertEquals(live.nextOrderId(), e.nextOrderId());
      assertEquals(live.rejectedByReason(), e.rejectedByReason());
      assertEquals(live.lastTradePrice(), e.lastTradePrice());
      // Its memory may hold records forgotten out of turn (a reused clientOrderId): the
      // snapshot leaves them out and restores to the same state.
      EngineSnapshot snap = e.snapshot();
      assertEquals(
          e.completedOrdersInMemory(),
          snap.orders().stream().filter(o -> o.order().remainingQuantity() == 0).count());
      assertEquals(
          e.stateDigest(), InstrumentEngine.restore(snap, REFERENCE, LIMITS, other).stateDigest());
      assertEquals(
          e.stateDigest(),
          InstrumentEngine.restoreBytes(e.snapshotBytes(), REFERENCE, LIMITS, other).stateDigest());
      // Restored under a smaller window, both forms forget the same oldest records.
      assertArrayEquals(
          InstrumentEngine.restore(snap, REFERENCE, LIMITS, retention).snapshotBytes(),
          InstrumentEngine.restoreBytes(e.snapshotBytes(), REFERENCE, LIMITS, retention)
              .snapshotBytes());
    }
  }

  @Provide
  Arbitrary<Integer> smallRetention() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.just(5)),
        Tuple.of(
            2,
            Arbitraries.integers().between(0, 8).withDistribution(RandomDistribution.uniform())));
  }

  /** Runs the commands, checking as it goes; returns the journal. */
  private static List<EngineDriver.Event> run(
      List<EngineDriver.Command> commands, int snapshotAt, int retention) {
    InstrumentEngine engine = new InstrumentEngine("X", REFERENCE, LIMITS, retention);
    List<EngineDriver.Event> journal = new ArrayList<>();
    Window window = new Window(retention);
    InstrumentEngine restored = null;
    InstrumentEngine restoredFromBytes = null;
    int cut = Math.min(snapshotAt, commands.size());

    for (int i = 0; i < commands.size(); i++) {
      if (i == cut) {
        restored = InstrumentEngine.restore(engine.snapshot(), REFERENCE, LIMITS, retention);
        restoredFromBytes =
            InstrumentEngine.restoreBytes(engine.snapshotBytes(), REFERENCE, LIMITS, retention);
      }
      EngineDriver.Command c = commands.get(i);
      if (c instanceof EngineDriver.Cancel k && k.account().equals("own")) {
        OrderRequest placed = window.placed.get(k.orderId());
        c = new EngineDriver.Cancel(placed == null ? "a" : placed.account(), k.orderId());
      }
      String before = engine.stateDigest();
      Object previous =
          c instanceof EngineDriver.Place p
              ? engine
                  .previousOutcome(p.request().account(), p.request().clientOrderId())
                  .orElse(null)
              : null;
      long effectivePrice = 0;
      if (c instanceof EngineDriver.Place p) {
        assertEquals(window.remembers(p.request()), previous != null, "remembered: " + p.request());
        effectivePrice = engine.effectivePrice(p.request());
      }

      Object result = EngineDriver.run(engine, c, journal);
      if (restored != null) {
        assertEquals(result, EngineDriver.run(restored, c, new ArrayList<>()), "restored engine");
        assertEquals(
            result,
            EngineDriver.run(restoredFromBytes, c, new ArrayList<>()),
            "engine restored from bytes");
      }

      if (previous != null) {
        assertSame(previous, result, "a retry returns the original outcome");
        assertEquals(before, engine.stateDigest(), "a retry changes nothing");
      }
      if (result instanceof CancelResult cr && cr.status() != CancelResult.Status.CANCELLED) {
        assertEquals(before, engine.stateDigest(), "a failed cancel changes nothing");
      }
      if (result instanceof Outcome o && previous == null) {
        window.placed(((EngineDriver.Place) c).request(), o);
        checkOutcome(engine, window, o, effectivePrice);
        if (window.wasForgotten(o)) Statistics.label("reuse").collect("clientOrderId new again");
        Statistics.label("outcome")
            .collect(o.rejectReason() != null ? o.rejectReason().name() : o.status().name());
      }
      if (result instanceof CancelResult cr) {
        if (cr.status() == CancelResult.Status.CANCELLED) window.cancelled(cr.orderId());
        Statistics.label("cancel").collect(cr.status().name());
      }
      checkInvariants(engine);
      window.check(engine);
      checkBinaryRoundTrip(engine);
    }
    if (restored == null) {
      restored = InstrumentEngine.restore(engine.snapshot(), REFERENCE, LIMITS, retention);
      restoredFromBytes =
          InstrumentEngine.restoreBytes(engine.snapshotBytes(), REFERENCE, LIMITS, retention);
    }

    InstrumentEngine replayed =
        new InstrumentEngine("X", REFERENCE, new RiskLimits(1, 1, 0, 0, 0), retention);
    EngineDriver.replay(replayed, journal);
    assertEquals(engine.stateDigest(), replayed.stateDigest(), "replay");
    assertEquals(engine.snapshot(), replayed.snapshot(), "replay");
    assertEquals(
        engine.stateDigest(), restored.stateDigest(), "snapshot at " + cut + " then same commands");
    assertEquals(
        engine.stateDigest(),
        restoredFromBytes.stateDigest(),
        "binary snapshot at " + cut + " then same commands");
    assertEquals(
        engine.snapshot(),
        restoredFromBytes.snapshot(),
        "binary snapshot at " + cut + " then same commands");
    return journal;
  }

  /**
   * The binary snapshot holds everything the record snapshot does, and restores to an engine that
   * writes the same bytes again (so the same digest); both forms agree.
   */
  private static void checkBinaryRoundTrip(InstrumentEngine engine) {
    byte[] bytes = engine.snapshotBytes();
    InstrumentEngine fromBytes =
        InstrumentEngine.restoreBytes(bytes, REFERENCE, LIMITS, engine.retainedCompletedOrders());
    assertArrayEquals(bytes, fromBytes.snapshotBytes(), "bytes -> engine -> bytes");
    assertEquals(engine.snapshot(), fromBytes.snapshot(), "everything the record snapshot holds");
    assertEquals(engine.completedOrdersInMemory(), fromBytes.completedOrdersInMemory());
    assertArrayEquals(
        bytes,
        InstrumentEngine.restore(
                engine.snapshot(), REFERENCE, LIMITS, engine.retainedCompletedOrders())
            .snapshotBytes(),
        "records -> engine -> bytes");
  }

  /**
   * Model of the idempotency window: all open orders plus the last N completed records, in
   * completion order. Built only from the outcomes and cancel results the engine returned.
   */
  private static final class Window {
    final int retention;
    final Map<Long, OrderRequest> placed = new HashMap<>(); // every accepted order, by id
    final Map<Long, Long> openRemaining = new HashMap<>();
    final Set<String> open = new HashSet<>();
    final ArrayDeque<Done> completed = new ArrayDeque<>(); // oldest first
    final Set<String> forgotten = new HashSet<>();

    /** A completed record: its key, and its order id (0 if rejected). */
    record Done(String key, long orderId) {}

    Window(int retention) {
      this.retention = retention;
    }

    static String key(String account, String clientOrderId) {
      return account + "/" + clientOrderId;
    }

    boolean remembers(OrderRequest r) {
      String k = key(r.account(), r.clientOrderId());
      return open.contains(k) || remembersCompleted(k);
    }

    boolean remembersCompleted(String k) {
      return completed.stream().anyMatch(d -> d.key().equals(k));
    }

    boolean wasForgotten(Outcome o) {
      return forgotten.contains(key(o.account(), o.clientOrderId()));
    }

    void placed(OrderRequest r, Outcome o) {
      for (Fill f : o.fills()) {
        long left = openRemaining.merge(f.makerOrderId(), -f.quantity(), Long::sum);
        if (left == 0) {
          openRemaining.remove(f.makerOrderId());
          OrderRequest maker = placed.get(f.makerOrderId());
          String mk = key(maker.account(), maker.clientOrderId());
          open.remove(mk);
          complete(new Done(mk, f.makerOrderId()));
        }
      }
      String k = key(r.account(), r.clientOrderId());
      if (o.orderId() != 0) placed.put(o.orderId(), r);
      if (o.remainingQuantity() > 0) {
        openRemaining.put(o.orderId(), o.remainingQuantity());
        open.add(k);
      } else {
        complete(new Done(k, o.orderId()));
      }
    }

    void cancelled(long orderId) {
      openRemaining.remove(orderId);
      OrderRequest r = placed.get(orderId);
      String k = key(r.account(), r.clientOrderId());
      open.remove(k);
      complete(new Done(k, orderId));
    }

    private void complete(Done d) {
      completed.addLast(d);
      while (completed.size() > retention) forgotten.add(completed.pollFirst().key());
    }

    void check(InstrumentEngine engine) {
      assertTrue(engine.completedOrdersInMemory() <= retention);
      assertEquals(
          completed.size(), engine.completedOrdersInMemory(), "completed records remembered");
      Set<String> keys = new LinkedHashSet<>(forgotten);
      keys.addAll(open);
      completed.forEach(d -> keys.add(d.key()));
      for (String k : keys) {
        String[] ac = k.split("/", 2);
        assertEquals(
            open.contains(k) || remembersCompleted(k),
            engine.previousOutcome(ac[0], ac[1]).isPresent(),
            "remembered: " + k);
      }
      Set<Long> completedIds = new HashSet<>();
      completed.forEach(d -> completedIds.add(d.orderId()));
      for (long id : placed.keySet()) {
        boolean known = openRemaining.containsKey(id) || completedIds.contains(id);
        assertEquals(known, engine.order(id).isPresent(), "order " + id);
      }
      // The snapshot: open orders by id, then the completed ones in completion order.
      List<Done> snapshotCompleted = new ArrayList<>();
      long lastOpenId = 0;
      boolean inCompleted = false;
      for (EngineSnapshot.OrderEntry entry : engine.snapshot().orders()) {
        OrderView v = entry.order();
        boolean isOpen = v.remainingQuantity() > 0;
        if (isOpen) {
          assertTrue(!inCompleted && v.orderId() > lastOpenId, "open orders first, by id");
          lastOpenId = v.orderId();
        } else {
          inCompleted = true;
          snapshotCompleted.add(new Done(key(v.account(), v.clientOrderId()), v.orderId()));
        }
      }
      assertEquals(
          new ArrayList<>(completed), snapshotCompleted, "completion order in the snapshot");
    }
  }

  private static void checkOutcome(InstrumentEngine engine, Window window, Outcome o, long bound) {
    if (o.status() == OrderStatus.REJECTED) return;
    // The records may already be forgotten (tiny window): check against what was placed.
    OrderRequest taker = window.placed.get(o.orderId());
    assertTrue(taker.quantity() <= LIMITS.maxOrderQuantity());
    assertEquals(
        taker.quantity(), o.filledQuantity() + o.remainingQuantity() + o.cancelledQuantity());
    engine
        .order(o.orderId())
        .ifPresent(
            v -> {
              assertEquals(taker, v.request());
              assertEquals(bound, v.effectivePrice());
            });
    for (Fill f : o.fills()) {
      OrderRequest maker = window.placed.get(f.makerOrderId());
      assertEquals(maker.price(), f.price(), "trade at the maker's price");
      assertTrue(
          taker.side() == Side.BUY ? f.price() <= bound : f.price() >= bound,
          "trade beyond taker limit");
      // Priority: nothing better, nor earlier at the same price, is left on the maker's side.
      for (RestingOrder r : engine.restingOrders()) {
        if (r.side() != maker.side()) continue;
        assertTrue(maker.side() == Side.SELL ? r.price() >= f.price() : r.price() <= f.price());
        assertTrue(
            r.price() != f.price() || r.orderId() >= f.makerOrderId(), "earlier order left: " + r);
      }
    }
  }

  private static void checkInvariants(InstrumentEngine engine) {
    OptionalLong bid = engine.bestBid();
    OptionalLong ask = engine.bestAsk();
    if (bid.isPresent() && ask.isPresent())
      assertTrue(bid.getAsLong() < ask.getAsLong(), "crossed book");

    long net = 0;
    long bought = 0;
    long sold = 0;
    long buyNotional = 0;
    long sellNotional = 0;
    Map<String, long[]> open = new HashMap<>(); // account -> {openBuy, openSell, orders}
    for (RestingOrder r : engine.restingOrders()) {
      long[] o = open.computeIfAbsent(r.account(), a -> new long[3]);
      o[r.side() == Side.BUY ? 0 : 1] += r.remainingQuantity();
      o[2]++;
      OrderView v = engine.order(r.orderId()).orElseThrow();
      assertEquals(v.remainingQuantity(), r.remainingQuantity());
    }
    for (String account : ACCOUNTS) {
      PositionView p = engine.position(account);
      net += p.netQuantity();
      bought += p.boughtQuantity();
      sold += p.soldQuantity();
      buyNotional += p.buyNotional();
      sellNotional += p.sellNotional();
      long[] o = open.getOrDefault(account, new long[3]);
      assertEquals(o[0], p.openBuyQuantity(), "open buy of " + account);
      assertEquals(o[1], p.openSellQuantity(), "open sell of " + account);
      assertEquals(o[2], p.openOrders(), "open orders of " + account);
      assertEquals(p.boughtQuantity() - p.soldQuantity(), p.netQuantity());
      // Worst-case position checks keep even the all-fill case within the limit.
      assertTrue(p.netQuantity() + p.openBuyQuantity() <= LIMITS.maxPosition(), p.toString());
      assertTrue(p.netQuantity() - p.openSellQuantity() >= -LIMITS.maxPosition(), p.toString());
      assertTrue(p.openOrders() <= LIMITS.maxOpenOrders(), p.toString());
    }
    assertEquals(0, net, "positions sum to zero");
    assertEquals(bought, sold);
    assertEquals(buyNotional, sellNotional);

    for (long id = 1; id < engine.nextOrderId(); id++) {
      engine
          .order(id)
          .ifPresent(
              v ->
                  assertEquals(
                      v.quantity(),
                      v.filledQuantity() + v.remainingQuantity() + v.cancelledQuantity(),
                      v.toString()));
    }
    assertEquals(engine.nextOrderId() - 1, engine.accepted());
    assertEquals(
        engine.rejected(),
        engine.rejectedByReason().values().stream().mapToLong(Long::longValue).sum());
  }
}
