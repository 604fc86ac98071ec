package com.shrivenquant.engine.core;

import static com.shrivenquant.engine.core.Side.BUY;
import static com.shrivenquant.engine.core.Side.SELL;
import static com.shrivenquant.engine.core.TimeInForce.GTC;
import static com.shrivenquant.engine.core.TimeInForce.IOC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class InstrumentEngineTest {
  // Reference 1000, band 5 % -> limit prices 950..1050.
  static final RiskLimits LIMITS = new RiskLimits(1_000, 1_000_000, 500, 500, 3);
  private final InstrumentEngine engine = new InstrumentEngine("BTC-USD", 1_000, LIMITS);
  private int cid;

  private Outcome limit(String account, Side side, long price, long qty, TimeInForce tif) {
    return engine.place(OrderRequest.limit(account, "c" + (++cid), side, price, qty, tif));
  }

  private Outcome market(String account, Side side, long qty) {
    return engine.place(OrderRequest.market(account, "c" + (++cid), side, qty));
  }

  private void assertRejected(RejectReason reason, Outcome o) {
    assertEquals(OrderStatus.REJECTED, o.status());
    assertEquals(reason, o.rejectReason());
    assertEquals(0, o.orderId());
    assertTrue(o.fills().isEmpty());
  }

  @Test
  void acceptedOrdersGetSequentialIdsAndRejectsDoNotUseOne() {
    assertEquals(1, limit("a", BUY, 1000, 1, GTC).orderId());
    assertRejected(RejectReason.MAX_ORDER_QUANTITY, limit("a", BUY, 1000, 1001, GTC));
    assertEquals(2, limit("a", BUY, 1000, 1, GTC).orderId());
    assertEquals(2, engine.accepted());
    assertEquals(1, engine.rejected());
  }

  @Test
  void maxOrderQuantity() {
    engine.updateLimits(new RiskLimits(1_000, 1_000_000, 500, 10_000, 3));
    assertEquals(OrderStatus.NEW, limit("a", BUY, 1000, 1000, GTC).status());
    assertRejected(RejectReason.MAX_ORDER_QUANTITY, limit("b", SELL, 950, 1001, GTC));
  }

  @Test
  void maxNotional() {
    engine.updateLimits(new RiskLimits(1_000, 1_000_000, 500, 10_000, 3));
    assertEquals(OrderStatus.NEW, limit("a", BUY, 1000, 1000, GTC).status()); // 1,000,000
    assertRejected(RejectReason.MAX_NOTIONAL, limit("b", SELL, 1050, 999, GTC)); // 1,048,950
    // A market buy is priced at the band's top (1050): 953 x 1050 = 1,000,650.
    assertRejected(RejectReason.MAX_NOTIONAL, market("c", BUY, 953));
    assertEquals(OrderStatus.CANCELLED, market("c", BUY, 952).status()); // 999,600, no asks
    assertEquals(2L, engine.rejectedByReason().get(RejectReason.MAX_NOTIONAL));
  }

  @Test
  void notionalOverflowIsARejection() {
    RiskLimits wide = new RiskLimits(Long.MAX_VALUE, Long.MAX_VALUE, 10_000, Long.MAX_VALUE, 10);
    InstrumentEngine e = new InstrumentEngine("X", Long.MAX_VALUE / 4, wide);
    Outcome o = e.place(OrderRequest.limit("a", "1", SELL, Long.MAX_VALUE / 4, 5, GTC));
    assertEquals(RejectReason.MAX_NOTIONAL, o.rejectReason());
  }

  @Test
  void priceBandAroundReferenceThenLastTrade() {
    assertRejected(RejectReason.PRICE_BAND, limit("a", BUY, 1051, 1, GTC));
    assertRejected(RejectReason.PRICE_BAND, limit("a", SELL, 949, 1, GTC));
    assertEquals(OrderStatus.NEW, limit("a", SELL, 1050, 1, GTC).status());
    assertEquals(OrderStatus.NEW, limit("b", BUY, 950, 1, GTC).status());
    assertEquals(1000, engine.currentReferencePrice());
    // Trade at 1050 moves the reference: band becomes 998..1102.
    assertEquals(OrderStatus.FILLED, limit("b", BUY, 1050, 1, IOC).status());
    assertEquals(OptionalLong.of(1050), engine.lastTradePrice());
    assertEquals(OrderStatus.NEW, limit("a", SELL, 1102, 1, GTC).status());
    assertRejected(RejectReason.PRICE_BAND, limit("a", SELL, 1103, 1, GTC));
    assertRejected(RejectReason.PRICE_BAND, limit("b", BUY, 997, 1, GTC));
  }

  @Test
  void positionLimitCountsOpenOrdersOnTheSameSide() {
    assertEquals(OrderStatus.NEW, limit("a", BUY, 990, 300, GTC).status());
    assertRejected(RejectReason.POSITION_LIMIT, limit("a", BUY, 990, 201, GTC));
    assertEquals(OrderStatus.NEW, limit("a", BUY, 990, 200, GTC).status()); // 0 + 300 + 200 = 500
    assertRejected(RejectReason.POSITION_LIMIT, limit("a", BUY, 990, 1, IOC));
    // Selling reduces risk: open buys do not count against the sell side.
    assertEquals(OrderStatus.NEW, limit("a", SELL, 1000, 500, GTC).status());
    assertRejected(RejectReason.POSITION_LIMIT, limit("a", SELL, 1000, 1, GTC));
  }

  @Test
  void positionLimitCountsNetPosition() {
    limit("m", SELL, 1000, 400, GTC);
    assertEquals(OrderStatus.FILLED, limit("a", BUY, 1000, 400, IOC).status());
    assertRejected(RejectReason.POSITION_LIMIT, market("a", BUY, 101));
    assertEquals(OrderStatus.CANCELLED, market("a", BUY, 100).status()); // nothing left to buy
    // Short side: -400 - 0 - 500 = -900 is beyond -500, -400 - 100 = -500 is fine.
    assertRejected(RejectReason.POSITION_LIMIT, limit("m", SELL, 1000, 101, GTC));
    assertEquals(OrderStatus.NEW, limit("m", SELL, 1000, 100, GTC).status());
  }

  @Test
  void openOrderLimitOnlyForOrdersThatCouldRest() {
    for (int i = 0; i < 3; i++)
      assertEquals(OrderStatus.NEW, limit("a", BUY, 990 - i, 1, GTC).status());
    assertRejected(RejectReason.OPEN_ORDER_LIMIT, limit("a", BUY, 980, 1, GTC));
    assertEquals(OrderStatus.CANCELLED, limit("a", SELL, 1000, 1, IOC).status());
    assertEquals(OrderStatus.CANCELLED, market("a", BUY, 1).status()); // no asks
    assertEquals(OrderStatus.NEW, limit("b", BUY, 980, 1, GTC).status()); // per account
    assertTrue(engine.cancel("a", 1).status() == CancelResult.Status.CANCELLED);
    assertEquals(OrderStatus.NEW, limit("a", BUY, 980, 1, GTC).status());
  }

  @Test
  void rejectionsAreRememberedAndCounted() {
    OrderRequest r = OrderRequest.limit("a", "x", BUY, 2000, 1, GTC);
    Outcome first = engine.place(r);
    assertRejected(RejectReason.PRICE_BAND, first);
    // Even after the limits would allow it, the retry gets the original rejection.
    engine.updateLimits(new RiskLimits(1_000, 10_000_000, 20_000, 500, 3));
    assertSame(first, engine.place(r));
    assertEquals(1, engine.rejected());
    assertEquals(1L, engine.rejectedByReason().get(RejectReason.PRICE_BAND));
    assertEquals(0L, engine.rejectedByReason().get(RejectReason.MAX_NOTIONAL));
    assertEquals(OrderStatus.REJECTED, engine.orderByClientId("a", "x").orElseThrow().status());
    assertEquals(
        RejectReason.PRICE_BAND, engine.orderByClientId("a", "x").orElseThrow().rejectReason());
    assertEquals(CancelResult.Status.NOT_OPEN, engine.cancelByClientId("a", "x").status());
  }

  @Test
  void repeatedClientOrderIdReturnsTheFirstOutcomeAndExecutesNothing() {
    limit("m", SELL, 1000, 10, GTC);
    OrderRequest r = OrderRequest.limit("t", "retry-me", BUY, 1000, 4, GTC);
    Outcome first = engine.place(r);
    assertEquals(OrderStatus.FILLED, first.status());
    String digest = engine.stateDigest();
    assertSame(first, engine.place(r));
    // Same id with different content is still the same order: no second execution.
    assertSame(first, engine.place(OrderRequest.limit("t", "retry-me", BUY, 1000, 6, GTC)));
    assertEquals(digest, engine.stateDigest());
    assertEquals(2, engine.accepted());
    assertEquals(4, engine.position("t").netQuantity());
    assertEquals(first, engine.previousOutcome("t", "retry-me").orElseThrow());
    assertEquals(r, engine.orderByClientId("t", "retry-me").orElseThrow().request());
    // The key is (account, clientOrderId): another account may reuse the string.
    assertEquals(
        OrderStatus.FILLED,
        engine.place(OrderRequest.limit("u", "retry-me", BUY, 1000, 1, GTC)).status());
  }

  @Test
  void positionsOfMakerAndTaker() {
    Outcome maker = limit("m", SELL, 1000, 10, GTC);
    Outcome taker = limit("t", BUY, 1010, 4, GTC);
    assertEquals(
        List.of(new Fill(maker.orderId(), "m", taker.orderId(), "t", BUY, 1000, 4)), taker.fills());
    assertEquals(new PositionView("m", -4, 0, 4, 0, 4000, 0, 6, 1), engine.position("m"));
    assertEquals(new PositionView("t", 4, 4, 0, 4000, 0, 0, 0, 0), engine.position("t"));
    assertEquals(
        OrderStatus.PARTIALLY_FILLED, engine.order(maker.orderId()).orElseThrow().status());

    Outcome t2 = limit("t", BUY, 1000, 8, GTC);
    assertEquals(OrderStatus.PARTIALLY_FILLED, t2.status());
    assertEquals(6, t2.filledQuantity());
    assertEquals(2, t2.remainingQuantity());
    assertEquals(new PositionView("m", -10, 0, 10, 0, 10_000, 0, 0, 0), engine.position("m"));
    assertEquals(new PositionView("t", 10, 10, 0, 10_000, 0, 2, 0, 1), engine.position("t"));
    OrderView mv = engine.order(maker.orderId()).orElseThrow();
    assertEquals(OrderStatus.FILLED, mv.status());
    assertEquals(10, mv.filledQuantity());
    assertEquals(0, mv.remainingQuantity());
    assertEquals(PositionView.empty("nobody"), engine.position("nobody"));
    assertEquals(
        List.of("m", "t"), engine.positions().stream().map(PositionView::account).toList());
  }

  @Test
  void selfTradeIsAllowedAndNetsToZero() {
    limit("a", SELL, 1000, 5, GTC);
    Outcome o = limit("a", BUY, 1000, 5, GTC);
    assertEquals(OrderStatus.FILLED, o.status());
    assertEquals(new PositionView("a", 0, 5, 5, 5000, 5000, 0, 0, 0), engine.position("a"));
  }

  @Test
  void marketOrderIsProtectedByTheBand() {
    engine.updateLimits(new RiskLimits(1_000, 1_000_000, 2_000, 500, 3));
    limit("m", SELL, 1100, 1, GTC);
    limit("m", SELL, 1000, 1, GTC);
    engine.updateLimits(LIMITS);
    Outcome o = market("t", BUY, 2);
    assertEquals(OrderStatus.CANCELLED, o.status());
    assertEquals(1, o.filledQuantity());
    assertEquals(1, o.cancelledQuantity());
    assertEquals(1000, o.fills().get(0).price());
    OrderView v = engine.order(o.orderId()).orElseThrow();
    assertEquals(0, v.price());
    assertEquals(1050, v.effectivePrice());
    assertEquals(OptionalLong.of(1100), engine.bestAsk());
  }

  @Test
  void cancelResults() {
    Outcome resting = limit("a", BUY, 990, 5, GTC);
    Outcome ioc = limit("a", BUY, 990, 5, IOC);
    assertEquals(CancelResult.Status.UNKNOWN_ORDER, engine.cancel("a", 99).status());
    assertEquals(CancelResult.Status.UNKNOWN_ORDER, engine.cancel("a", 0).status());
    assertEquals(CancelResult.Status.WRONG_ACCOUNT, engine.cancel("b", resting.orderId()).status());
    assertEquals(CancelResult.Status.NOT_OPEN, engine.cancel("a", ioc.orderId()).status());
    String before = engine.stateDigest();
    assertEquals(CancelResult.Status.WRONG_ACCOUNT, engine.cancel("b", resting.orderId()).status());
    assertEquals(before, engine.stateDigest());

    CancelResult c = engine.cancel("a", resting.orderId());
    assertEquals(CancelResult.Status.CANCELLED, c.status());
    assertEquals(5, c.cancelledQuantity());
    assertEquals(
        new RestingOrder(resting.orderId(), "a", resting.clientOrderId(), BUY, 990, 5, 5),
        c.cancelled());
    assertEquals(new PositionView("a", 0, 0, 0, 0, 0, 0, 0, 0), engine.position("a"));
    assertEquals(OrderStatus.CANCELLED, engine.order(resting.orderId()).orElseThrow().status());
    assertEquals(5, engine.order(resting.orderId()).orElseThrow().cancelledQuantity());
    assertEquals(CancelResult.Status.NOT_OPEN, engine.cancel("a", resting.orderId()).status());
    assertTrue(engine.depth(BUY, 5).isEmpty());

    Outcome filled = limit("a", SELL, 1000, 1, GTC);
    limit("b", BUY, 1000, 1, GTC);
    assertEquals(CancelResult.Status.NOT_OPEN, engine.cancel("a", filled.orderId()).status());
    assertNull(engine.cancel("a", filled.orderId()).cancelled());
  }

  @Test
  void cancelAfterPartialFillKeepsTheFills() {
    Outcome m = limit("m", SELL, 1000, 10, GTC);
    limit("t", BUY, 1000, 3, IOC);
    CancelResult c = engine.cancel("m", m.orderId());
    assertEquals(7, c.cancelledQuantity());
    OrderView v = engine.order(m.orderId()).orElseThrow();
    assertEquals(OrderStatus.CANCELLED, v.status());
    assertEquals(3, v.filledQuantity());
    assertEquals(7, v.cancelledQuantity());
    assertEquals(new PositionView("m", -3, 0, 3, 0, 3000, 0, 0, 0), engine.position("m"));
  }

  @Test
  void replayOfRecordedDecisionsIgnoresCurrentLimits() {
    List<EngineDriver.Event> journal = new ArrayList<>();
    for (EngineDriver.Command c : EngineDriver.randomCommands(7, 400))
      EngineDriver.run(engine, c, journal);
    assertTrue(
        engine.rejected() > 0 && engine.accepted() > 100, "stream should exercise both paths");
    InstrumentEngine replayed =
        new InstrumentEngine("BTC-USD", 1_000, new RiskLimits(1, 1, 0, 0, 0));
    EngineDriver.replay(replayed, journal);
    assertEquals(engine.stateDigest(), replayed.stateDigest());
    assertEquals(engine.snapshot(), replayed.snapshot());
  }

  @Test
  void replayThatDivergesFails() {
    OrderRequest r = OrderRequest.limit("a", "1", BUY, 1000, 1, GTC);
    assertThrows(IllegalStateException.class, () -> engine.applyAccepted(r, 2));
    engine.applyAccepted(r, 1);
    assertThrows(IllegalStateException.class, () -> engine.applyAccepted(r, 2));
    assertThrows(
        IllegalStateException.class, () -> engine.applyRejected(r, RejectReason.PRICE_BAND));
  }

  @Test
  void snapshotRoundTripBehavesIdentically() throws Exception {
    List<EngineDriver.Command> commands = EngineDriver.randomCommands(11, 600);
    List<EngineDriver.Event> journal = new ArrayList<>();
    for (EngineDriver.Command c : commands.subList(0, 300)) EngineDriver.run(engine, c, journal);

    EngineSnapshot snap = engine.snapshot();
    InstrumentEngine restored = InstrumentEngine.restore(snap, 1_000, LIMITS);
    assertEquals(engine.stateDigest(), restored.stateDigest());
    assertEquals(snap, restored.snapshot());

    // Through Jackson without annotations, as the persistence layer will do.
    ObjectMapper json = new ObjectMapper();
    EngineSnapshot decoded = json.readValue(json.writeValueAsBytes(snap), EngineSnapshot.class);
    assertEquals(snap, decoded);
    InstrumentEngine fromJson = InstrumentEngine.restore(decoded, 1_000, LIMITS);
    // The binary form, as the persistence layer stores it now.
    InstrumentEngine fromBytes =
        InstrumentEngine.restoreBytes(
            engine.snapshotBytes(),
            1_000,
            LIMITS,
            InstrumentEngine.DEFAULT_RETAINED_COMPLETED_ORDERS);
    assertEquals(snap, fromBytes.snapshot());

    String midDigest = engine.stateDigest();
    for (EngineDriver.Command c : commands.subList(300, commands.size())) {
      Object expected = EngineDriver.run(engine, c, new ArrayList<>());
      assertEquals(expected, EngineDriver.run(restored, c, new ArrayList<>()), c.toString());
      assertEquals(expected, EngineDriver.run(fromJson, c, new ArrayList<>()), c.toString());
      assertEquals(expected, EngineDriver.run(fromBytes, c, new ArrayList<>()), c.toString());
    }
    assertNotEquals(midDigest, engine.stateDigest());
    assertEquals(engine.stateDigest(), restored.stateDigest());
    assertEquals(engine.stateDigest(), fromJson.stateDigest());
    assertEquals(engine.stateDigest(), fromBytes.stateDigest());
    assertEquals(engine.accepted(), restored.accepted());
    assertEquals(engine.rejectedByReason(), fromJson.rejectedByReason());
  }

  @Test
  void digestSeesEveryPartOfTheState() throws Exception {
    InstrumentEngine other = new InstrumentEngine("BTC-USD", 1_000, LIMITS);
    assertEquals(engine.stateDigest(), other.stateDigest());
    assertEquals(
        HexFormat.of()
            .formatHex(MessageDigest.getInstance("SHA-256").digest(engine.canonicalState())),
        engine.stateDigest());
    limit("a", BUY, 990, 1, GTC);
    assertNotEquals(engine.stateDigest(), other.stateDigest());
    // Same book content, different client id: idempotency memory differs.
    other.place(OrderRequest.limit("a", "other", BUY, 990, 1, GTC));
    assertNotEquals(engine.stateDigest(), other.stateDigest());
    assertNotEquals(
        new InstrumentEngine("ETH-USD", 1_000, LIMITS).stateDigest(),
        new InstrumentEngine("BTC-USD", 1_000, LIMITS).stateDigest());
  }

  @Test
  void restoreRejectsAnInconsistentSnapshot() {
    limit("a", BUY, 990, 5, GTC);
    EngineSnapshot s = engine.snapshot();
    RestingOrder o = s.restingOrders().get(0);
    EngineSnapshot bad =
        new EngineSnapshot(
            s.formatVersion(),
            s.instrument(),
            s.nextOrderId(),
            s.lastTradePrice(),
            s.accepted(),
            s.rejected(),
            s.rejectedByReason(),
            List.of(
                new RestingOrder(
                    o.orderId(), o.account(), o.clientOrderId(), o.side(), o.price(), 5, 4)),
            s.positions(),
            s.orders());
    assertThrows(
        IllegalArgumentException.class, () -> InstrumentEngine.restore(bad, 1_000, LIMITS));
  }

  @Test
  void requestValidation() {
    assertThrows(
        IllegalArgumentException.class, () -> OrderRequest.limit(" ", "c", BUY, 1, 1, GTC));
    assertThrows(
        IllegalArgumentException.class, () -> OrderRequest.limit("a", null, BUY, 1, 1, GTC));
    assertThrows(
        IllegalArgumentException.class, () -> OrderRequest.limit("a", "c", BUY, 0, 1, GTC));
    assertThrows(
        IllegalArgumentException.class, () -> OrderRequest.limit("a", "c", BUY, 1, 0, GTC));
    assertThrows(
        IllegalArgumentException.class, () -> OrderRequest.limit("a", "c", null, 1, 1, GTC));
    assertThrows(
        IllegalArgumentException.class,
        () -> new OrderRequest("a", "c", BUY, OrderType.MARKET, 5, 1, IOC));
    assertFalse(RejectReason.POSITION_LIMIT.message().isBlank());
  }
}
