package com.shrivenquant.engine.core;

import static com.shrivenquant.engine.core.Side.BUY;
import static com.shrivenquant.engine.core.Side.SELL;
import static com.shrivenquant.engine.core.TimeInForce.GTC;
import static com.shrivenquant.engine.core.TimeInForce.IOC;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bounded memory of completed order records (the idempotency window). */
class InstrumentEngineRetentionTest {
  static final RiskLimits LIMITS = InstrumentEngineTest.LIMITS;
  private final InstrumentEngine engine = new InstrumentEngine("BTC-USD", 1_000, LIMITS, 3);

  private Outcome place(
      String account, String cid, Side side, long price, long qty, TimeInForce tif) {
    return engine.place(OrderRequest.limit(account, cid, side, price, qty, tif));
  }

  /** An IOC buy below every ask: accepted and at once CANCELLED, i.e. completed. */
  private Outcome completeOne(String cid) {
    Outcome o = place("z", cid, BUY, 950, 1, IOC);
    assertEquals(OrderStatus.CANCELLED, o.status());
    return o;
  }

  private boolean remembers(String account, String cid) {
    return engine.previousOutcome(account, cid).isPresent();
  }

  /** Client ids of the snapshot's completed records, in the snapshot's (completion) order. */
  private static List<String> completedInSnapshot(InstrumentEngine e) {
    return e.snapshot().orders().stream()
        .filter(o -> o.order().remainingQuantity() == 0)
        .map(o -> o.order().clientOrderId())
        .toList();
  }

  @Test
  void defaultsAndValidation() {
    assertEquals(50_000, InstrumentEngine.DEFAULT_RETAINED_COMPLETED_ORDERS);
    assertEquals(
        InstrumentEngine.DEFAULT_RETAINED_COMPLETED_ORDERS,
        new InstrumentEngine("X", 1_000, LIMITS).retainedCompletedOrders());
    assertEquals(3, engine.retainedCompletedOrders());
    assertThrows(
        IllegalArgumentException.class, () -> new InstrumentEngine("X", 1_000, LIMITS, -1));
    assertEquals(
        InstrumentEngine.DEFAULT_RETAINED_COMPLETED_ORDERS,
        InstrumentEngine.restore(engine.snapshot(), 1_000, LIMITS).retainedCompletedOrders());
  }

  @Test
  void completedRecordsBeyondTheBoundAreForgotten() {
    Outcome first = completeOne("c1");
    engine.place(OrderRequest.limit("r", "c2", BUY, 2000, 1, GTC)); // rejected: completed too
    Outcome filled = place("m", "c3", SELL, 1000, 1, GTC); // open, then filled by c4
    place("t", "c4", BUY, 1000, 1, GTC); // fills: m/c3 then t/c4 complete
    assertEquals(3, engine.completedOrdersInMemory());
    assertEquals(List.of("c2", "c3", "c4"), completedInSnapshot(engine));

    assertTrue(engine.previousOutcome("z", "c1").isEmpty());
    assertTrue(engine.orderByClientId("z", "c1").isEmpty());
    assertTrue(engine.order(first.orderId()).isEmpty());
    assertEquals(CancelResult.Status.UNKNOWN_ORDER, engine.cancel("z", first.orderId()).status());
    assertTrue(remembers("r", "c2") && remembers("m", "c3") && remembers("t", "c4"));

    completeOne("c5");
    assertTrue(engine.previousOutcome("r", "c2").isEmpty());
    completeOne("c6");
    assertTrue(engine.order(filled.orderId()).isEmpty());
    assertEquals(List.of("c4", "c5", "c6"), completedInSnapshot(engine));
    assertEquals(3, engine.completedOrdersInMemory());
    // Counters are not memory: they still count everything.
    assertEquals(5, engine.accepted());
    assertEquals(1, engine.rejected());
  }

  @Test
  void aForgottenClientOrderIdIsANewOrder() {
    Outcome first = completeOne("x");
    for (int i = 0; i < 3; i++) completeOne("filler" + i);
    assertTrue(engine.previousOutcome("z", "x").isEmpty());

    Outcome again = engine.place(OrderRequest.limit("z", "x", BUY, 950, 1, IOC));
    assertNotSame(first, again);
    assertNotEquals(first.orderId(), again.orderId());
    assertEquals(again, engine.previousOutcome("z", "x").orElseThrow());
    assertSame(
        again, engine.place(OrderRequest.limit("z", "x", BUY, 950, 1, IOC)), "remembered again");
    assertEquals(5, engine.accepted());
  }

  @Test
  void openOrdersAreNeverForgotten() {
    Outcome bid = place("a", "open-bid", BUY, 990, 5, GTC);
    Outcome ask = place("b", "open-ask", SELL, 1010, 5, GTC);
    for (int i = 0; i < 20; i++) completeOne("c" + i);
    place("t", "partial", BUY, 1010, 2, IOC); // the ask stays open, partially filled

    assertEquals(3, engine.completedOrdersInMemory());
    assertSame(bid, engine.previousOutcome("a", "open-bid").orElseThrow());
    assertSame(ask, engine.previousOutcome("b", "open-ask").orElseThrow());
    assertEquals(OrderStatus.NEW, engine.order(bid.orderId()).orElseThrow().status());
    assertEquals(OrderStatus.PARTIALLY_FILLED, engine.order(ask.orderId()).orElseThrow().status());
    // Open orders come first in the snapshot, by id.
    List<Long> ids = engine.snapshot().orders().stream().map(o -> o.order().orderId()).toList();
    assertEquals(List.of(bid.orderId(), ask.orderId()), ids.subList(0, 2));
    assertEquals(5, ids.size());
  }

  @Test
  void aMakerCompletesWhenItIsFilledNotWhenItWasPlaced() {
    Outcome maker = place("m", "maker", SELL, 1000, 5, GTC);
    completeOne("c1");
    completeOne("c2");
    completeOne("c3");
    // Fills the maker: it completes now, after c3 and before the taker.
    Outcome taker = place("t", "taker", BUY, 1000, 5, GTC);
    assertEquals(OrderStatus.FILLED, taker.status());
    assertEquals(List.of("c3", "maker", "taker"), completedInSnapshot(engine));
    assertEquals(OrderStatus.FILLED, engine.order(maker.orderId()).orElseThrow().status());
    assertTrue(engine.previousOutcome("z", "c2").isEmpty());

    completeOne("c4");
    assertTrue(remembers("m", "maker"));
    completeOne("c5");
    assertTrue(engine.previousOutcome("m", "maker").isEmpty());
    assertTrue(remembers("t", "taker"));
  }

  @Test
  void makersFilledByOneOrderCompleteInFillOrderBeforeIt() {
    InstrumentEngine e = new InstrumentEngine("X", 1_000, LIMITS, 10);
    e.place(OrderRequest.limit("m", "m1", SELL, 1001, 1, GTC));
    e.place(OrderRequest.limit("m", "m2", SELL, 1000, 1, GTC));
    e.place(OrderRequest.limit("n", "m3", SELL, 1000, 1, GTC));
    e.place(OrderRequest.limit("t", "sweep", BUY, 1001, 3, GTC));
    assertEquals(List.of("m2", "m3", "m1", "sweep"), completedInSnapshot(e));
  }

  @Test
  void aCancelCompletesTheOrder() {
    Outcome a = place("a", "a", BUY, 990, 5, GTC);
    Outcome b = place("b", "b", BUY, 980, 5, GTC);
    completeOne("c1");
    assertEquals(CancelResult.Status.CANCELLED, engine.cancel("a", a.orderId()).status());
    assertEquals(List.of("c1", "a"), completedInSnapshot(engine));
    completeOne("c2");
    completeOne("c3");
    assertEquals(List.of("a", "c2", "c3"), completedInSnapshot(engine));
    assertEquals(CancelResult.Status.NOT_OPEN, engine.cancel("a", a.orderId()).status());

    assertEquals(CancelResult.Status.CANCELLED, engine.cancelByClientId("b", "b").status());
    assertEquals(List.of("c2", "c3", "b"), completedInSnapshot(engine));
    assertTrue(engine.order(a.orderId()).isEmpty());
    assertEquals(CancelResult.Status.UNKNOWN_ORDER, engine.cancel("a", a.orderId()).status());
    assertEquals(CancelResult.Status.UNKNOWN_ORDER, engine.cancelByClientId("a", "a").status());
    assertEquals(OrderStatus.CANCELLED, engine.order(b.orderId()).orElseThrow().status());
  }

  @Test
  void retentionZeroRemembersOnlyOpenOrders() {
    InstrumentEngine e = new InstrumentEngine("X", 1_000, LIMITS, 0);
    Outcome open = e.place(OrderRequest.limit("a", "open", BUY, 990, 1, GTC));
    Outcome ioc = e.place(OrderRequest.limit("a", "ioc", BUY, 950, 1, IOC));
    e.place(OrderRequest.limit("a", "bad", BUY, 5000, 1, GTC));
    assertEquals(0, e.completedOrdersInMemory());
    assertTrue(e.previousOutcome("a", "ioc").isEmpty() && e.previousOutcome("a", "bad").isEmpty());
    assertTrue(e.order(ioc.orderId()).isEmpty());
    assertSame(open, e.previousOutcome("a", "open").orElseThrow());
    assertEquals(1, e.snapshot().orders().size());
  }

  @Test
  void memoryStaysBoundedOnALongStream() {
    InstrumentEngine e = new InstrumentEngine("X", 1_000, LIMITS, 100);
    List<EngineDriver.Event> journal = new ArrayList<>();
    for (EngineDriver.Command c : EngineDriver.randomCommands(3, 20_000))
      EngineDriver.run(e, c, journal);
    assertTrue(e.accepted() > 1_000, "accepted " + e.accepted());
    assertEquals(
        100,
        e.completedOrdersInMemory(),
        "accepted " + e.accepted() + ", rejected " + e.rejected());
    assertEquals(100 + e.restingOrders().size(), e.snapshot().orders().size());

    InstrumentEngine replayed =
        new InstrumentEngine("X", 1_000, new RiskLimits(1, 1, 0, 0, 0), 100);
    EngineDriver.replay(replayed, journal);
    assertEquals(e.stateDigest(), replayed.stateDigest());
  }

  @Test
  void replayWithAForgottenClientOrderIdReusedGivesTheSameState() {
    List<EngineDriver.Event> journal = new ArrayList<>();
    List<EngineDriver.Command> commands = new ArrayList<>();
    commands.add(
        new EngineDriver.Place(OrderRequest.limit("a", "x", BUY, 5000, 1, GTC))); // rejected
    for (int i = 0; i < 4; i++)
      commands.add(new EngineDriver.Place(OrderRequest.limit("z", "f" + i, BUY, 950, 1, IOC)));
    commands.add(
        new EngineDriver.Place(OrderRequest.limit("a", "x", BUY, 990, 1, GTC))); // new again: rests
    commands.add(new EngineDriver.Cancel("a", 5));
    for (EngineDriver.Command c : commands) EngineDriver.run(engine, c, journal);
    assertEquals(OrderStatus.CANCELLED, engine.orderByClientId("a", "x").orElseThrow().status());

    InstrumentEngine replayed = new InstrumentEngine("BTC-USD", 1_000, LIMITS, 3);
    assertDoesNotThrow(() -> EngineDriver.replay(replayed, journal));
    assertEquals(engine.stateDigest(), replayed.stateDigest());
  }

  @Test
  void aJournalDecidedUnderASmallerWindowReplaysUnderALargerOne() {
    // Decided with N=3: "x" was forgotten, then accepted again.
    List<EngineDriver.Event> journal = new ArrayList<>();
    EngineDriver.run(
        engine, new EngineDriver.Place(OrderRequest.limit("a", "x", BUY, 950, 1, IOC)), journal);
    for (int i = 0; i < 3; i++) {
      EngineDriver.run(
          engine,
          new EngineDriver.Place(OrderRequest.limit("z", "f" + i, BUY, 950, 1, IOC)),
          journal);
    }
    EngineDriver.run(
        engine, new EngineDriver.Place(OrderRequest.limit("a", "x", BUY, 990, 2, GTC)), journal);

    // Replayed after the bound was raised: the journal wins, the old "x" is forgotten.
    InstrumentEngine larger = new InstrumentEngine("BTC-USD", 1_000, LIMITS, 100);
    EngineDriver.replay(larger, journal);
    assertEquals(engine.restingOrders(), larger.restingOrders());
    assertEquals(2, larger.orderByClientId("a", "x").orElseThrow().quantity());
    assertTrue(larger.order(1).isEmpty());
    assertEquals(List.of("f0", "f1", "f2"), completedInSnapshot(larger));
    assertEquals(3, larger.completedOrdersInMemory());
    InstrumentEngine restored = InstrumentEngine.restore(larger.snapshot(), 1_000, LIMITS, 100);
    assertEquals(larger.stateDigest(), restored.stateDigest());
    // Further completions evict in order, skipping the record forgotten out of turn.
    for (int i = 0; i < 99; i++) {
      larger.place(OrderRequest.limit("z", "g" + i, BUY, 950, 1, IOC));
      restored.place(OrderRequest.limit("z", "g" + i, BUY, 950, 1, IOC));
    }
    assertEquals(100, larger.completedOrdersInMemory());
    assertTrue(
        larger.previousOutcome("z", "f0").isEmpty() && larger.previousOutcome("z", "f1").isEmpty());
    assertTrue(remembersIn(larger, "z", "f2"));
    assertEquals(larger.stateDigest(), restored.stateDigest());

    // An open order's clientOrderId can never be accepted again: that is a diverged replay.
    OrderRequest again = OrderRequest.limit("a", "x", BUY, 990, 1, GTC);
    long next = larger.nextOrderId();
    assertThrows(IllegalStateException.class, () -> larger.applyAccepted(again, next));
    assertThrows(
        IllegalStateException.class, () -> larger.applyRejected(again, RejectReason.PRICE_BAND));
  }

  private static boolean remembersIn(InstrumentEngine e, String account, String cid) {
    return e.previousOutcome(account, cid).isPresent();
  }

  @Test
  void snapshotCarriesTheCompletionOrderAndRestoresIt() throws Exception {
    place("m", "maker", SELL, 1000, 5, GTC);
    place("k", "open", BUY, 980, 5, GTC);
    completeOne("c1");
    completeOne("c2");
    place("t", "taker", BUY, 1000, 5, GTC); // maker, taker complete; c1 forgotten
    EngineSnapshot snap = engine.snapshot();
    assertEquals(EngineSnapshot.CURRENT_FORMAT, snap.formatVersion());
    assertEquals(
        List.of("open", "c2", "maker", "taker"),
        snap.orders().stream().map(o -> o.order().clientOrderId()).toList());

    ObjectMapper json = new ObjectMapper();
    EngineSnapshot decoded = json.readValue(json.writeValueAsBytes(snap), EngineSnapshot.class);
    assertEquals(snap, decoded);
    InstrumentEngine restored = InstrumentEngine.restore(decoded, 1_000, LIMITS, 3);
    byte[] bytes = engine.snapshotBytes();
    InstrumentEngine fromBytes = InstrumentEngine.restoreBytes(bytes, 1_000, LIMITS, 3);
    assertEquals(snap, fromBytes.snapshot());
    assertEquals(engine.stateDigest(), restored.stateDigest());
    assertEquals(engine.stateDigest(), fromBytes.stateDigest());
    assertEquals(3, restored.completedOrdersInMemory());
    assertEquals(3, fromBytes.completedOrdersInMemory());
    for (InstrumentEngine e : List.of(engine, restored, fromBytes)) {
      e.place(OrderRequest.limit("z", "c3", BUY, 950, 1, IOC));
      assertTrue(e.previousOutcome("z", "c2").isEmpty());
      assertTrue(remembersIn(e, "m", "maker"));
    }
    assertEquals(engine.stateDigest(), restored.stateDigest());
    assertEquals(engine.stateDigest(), fromBytes.stateDigest());

    // Restored with a smaller bound, the oldest completed are forgotten.
    InstrumentEngine smaller = InstrumentEngine.restore(snap, 1_000, LIMITS, 1);
    assertEquals(List.of("taker"), completedInSnapshot(smaller));
    assertTrue(remembersIn(smaller, "k", "open"));
    InstrumentEngine smallerFromBytes = InstrumentEngine.restoreBytes(bytes, 1_000, LIMITS, 1);
    assertEquals(List.of("taker"), completedInSnapshot(smallerFromBytes));
    assertTrue(remembersIn(smallerFromBytes, "k", "open"));
    assertEquals(smaller.stateDigest(), smallerFromBytes.stateDigest());
  }

  @Test
  void theDigestCoversTheCompletionOrder() {
    completeOne("c1");
    completeOne("c2");
    EngineSnapshot s = engine.snapshot();
    List<EngineSnapshot.OrderEntry> swapped = List.of(s.orders().get(1), s.orders().get(0));
    EngineSnapshot other = withOrders(s, s.formatVersion(), swapped);
    InstrumentEngine a = InstrumentEngine.restore(s, 1_000, LIMITS, 2);
    InstrumentEngine b = InstrumentEngine.restore(other, 1_000, LIMITS, 2);
    assertNotEquals(a.stateDigest(), b.stateDigest());
    // It matters: the next completion forgets a different record.
    a.place(OrderRequest.limit("z", "c3", BUY, 950, 1, IOC));
    b.place(OrderRequest.limit("z", "c3", BUY, 950, 1, IOC));
    assertTrue(a.previousOutcome("z", "c1").isEmpty() && remembersIn(a, "z", "c2"));
    assertTrue(b.previousOutcome("z", "c2").isEmpty() && remembersIn(b, "z", "c1"));
  }

  @Test
  void aFormat1SnapshotIsRestoredTakingIdOrderAsCompletionOrder() {
    InstrumentEngine unbounded = new InstrumentEngine("BTC-USD", 1_000, LIMITS);
    unbounded.place(OrderRequest.limit("m", "maker", SELL, 1000, 5, GTC));
    unbounded.place(OrderRequest.limit("z", "c1", BUY, 950, 1, IOC));
    unbounded.place(OrderRequest.limit("r", "bad", BUY, 5000, 1, GTC));
    unbounded.place(OrderRequest.limit("k", "open", BUY, 980, 5, GTC));
    unbounded.place(OrderRequest.limit("t", "taker", BUY, 1000, 5, GTC));
    EngineSnapshot s = unbounded.snapshot();
    List<EngineSnapshot.OrderEntry> byId = new ArrayList<>(s.orders());
    byId.sort(
        Comparator.comparingLong((EngineSnapshot.OrderEntry o) -> o.order().orderId())
            .thenComparing(o -> o.order().account())
            .thenComparing(o -> o.order().clientOrderId()));
    EngineSnapshot v1 = withOrders(s, EngineSnapshot.FORMAT_UNBOUNDED, byId);

    InstrumentEngine restored = InstrumentEngine.restore(v1, 1_000, LIMITS, 3);
    assertEquals(EngineSnapshot.CURRENT_FORMAT, restored.snapshot().formatVersion());
    assertEquals(
        List.of("maker", "c1", "taker"), completedInSnapshot(restored)); // "bad" (id 0) was oldest
    assertTrue(remembersIn(restored, "k", "open"));
    assertEquals(unbounded.restingOrders(), restored.restingOrders());
    assertEquals(unbounded.positions(), restored.positions());

    assertThrows(
        IllegalArgumentException.class,
        () -> InstrumentEngine.restore(withOrders(s, 99, s.orders()), 1_000, LIMITS));
  }

  @Test
  void restoreRejectsOpenRecordsThatAreNotInTheBook() {
    place("a", "open", BUY, 990, 5, GTC);
    completeOne("c1");
    EngineSnapshot s = engine.snapshot();
    EngineSnapshot noBook =
        new EngineSnapshot(
            s.formatVersion(),
            s.instrument(),
            s.nextOrderId(),
            s.lastTradePrice(),
            s.accepted(),
            s.rejected(),
            s.rejectedByReason(),
            List.of(),
            s.positions(),
            s.orders());
    assertThrows(
        IllegalArgumentException.class, () -> InstrumentEngine.restore(noBook, 1_000, LIMITS, 3));

    OrderView c1 = s.orders().get(1).order();
    OrderView wrongStatus =
        new OrderView(
            c1.orderId(),
            c1.account(),
            c1.clientOrderId(),
            c1.side(),
            c1.type(),
            c1.timeInForce(),
            c1.price(),
            c1.effectivePrice(),
            c1.quantity(),
            c1.filledQuantity(),
            c1.remainingQuantity(),
            c1.cancelledQuantity(),
            OrderStatus.NEW,
            null);
    EngineSnapshot bad =
        withOrders(
            s,
            s.formatVersion(),
            List.of(
                s.orders().get(0),
                new EngineSnapshot.OrderEntry(wrongStatus, s.orders().get(1).originalOutcome())));
    assertThrows(
        IllegalArgumentException.class, () -> InstrumentEngine.restore(bad, 1_000, LIMITS, 3));
  }

  private static EngineSnapshot withOrders(
      EngineSnapshot s, int format, List<EngineSnapshot.OrderEntry> orders) {
    return new EngineSnapshot(
        format,
        s.instrument(),
        s.nextOrderId(),
        s.lastTradePrice(),
        s.accepted(),
        s.rejected(),
        s.rejectedByReason(),
        s.restingOrders(),
        s.positions(),
        orders);
  }
}
