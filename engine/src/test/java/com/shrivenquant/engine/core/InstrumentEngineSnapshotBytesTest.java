package com.shrivenquant.engine.core;

import static com.shrivenquant.engine.core.Side.BUY;
import static com.shrivenquant.engine.core.Side.SELL;
import static com.shrivenquant.engine.core.TimeInForce.GTC;
import static com.shrivenquant.engine.core.TimeInForce.IOC;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link InstrumentEngine#snapshotBytes()} and {@link InstrumentEngine#restoreBytes}. */
class InstrumentEngineSnapshotBytesTest {
  static final RiskLimits LIMITS = InstrumentEngineTest.LIMITS;

  /**
   * A small state with a bit of everything: a rejected order, a partially filled bid and ask (the
   * bid with a non-ASCII clientOrderId), a taker filled by two makers, a cancelled IOC, a filled
   * market order, an account that appears only in a rejected record, and, with a window of 4, two
   * completed records already forgotten.
   */
  static InstrumentEngine scenario() {
    InstrumentEngine e = new InstrumentEngine("BTC-USD", 1_000, LIMITS, 4);
    e.place(OrderRequest.limit("m", "a1", SELL, 1000, 5, GTC));
    e.place(OrderRequest.limit("m", "a2", SELL, 1001, 5, GTC));
    e.place(OrderRequest.limit("k", "bid-\u00e9", BUY, 990, 2, GTC));
    e.place(OrderRequest.limit("r", "r1", BUY, 5000, 1, GTC)); // rejected: price band
    e.place(OrderRequest.limit("t", "t1", BUY, 1001, 7, GTC)); // fills a1 (5) and a2 (2)
    e.place(OrderRequest.limit("z", "i1", BUY, 960, 1, IOC)); // cancelled at once
    e.place(OrderRequest.market("t", "mkt", SELL, 1)); // fills bid-é (1 of 2)
    e.place(OrderRequest.limit("r", "r2", BUY, 5000, 1, GTC)); // rejected: price band
    return e;
  }

  /**
   * The bytes of {@link #scenario()} in format 1. A change of the format must not go unnoticed:
   * snapshots already in a database are read by the next version. A deliberate change bumps {@link
   * InstrumentEngine#BINARY_FORMAT} (keeping a reader for the old format) and then updates this.
   */
  static final String SCENARIO_FORMAT_1 =
      "00000001074254432d55534407de0706020500000200000400016b020100de07"
          + "0001000101016d0d000700da360003010201740c0701da36de0700000003017a"
          + "0000000000000000020300066269642dc3a9000000de07de0702010100010000"
          + "00000200000201026132010000e907e907050203000100000000050000040402"
          + "027431000000e907e9070707000002000200070000020101e807050201e90702"
          + "0503026931000001c007c0070100000103000300000001000602036d6b740101"
          + "0100b7070101000002000200010000010300de07010004017202723200000088"
          + "2700010000000403040300000000";

  @Test
  void theFormatIsPinned() {
    InstrumentEngine e = scenario();
    assertEquals(SCENARIO_FORMAT_1, HexFormat.of().formatHex(e.snapshotBytes()));
    InstrumentEngine fromPinned =
        InstrumentEngine.restoreBytes(HexFormat.of().parseHex(SCENARIO_FORMAT_1), 1_000, LIMITS, 4);
    assertEquals(e.snapshot(), fromPinned.snapshot());
    assertEquals(e.stateDigest(), fromPinned.stateDigest());
  }

  @Test
  void theScenarioCoversWhatItSays() {
    InstrumentEngine e = scenario();
    EngineSnapshot s = e.snapshot();
    assertEquals(
        List.of("a2", "bid-\u00e9", "t1", "i1", "mkt", "r2"),
        s.orders().stream().map(o -> o.order().clientOrderId()).toList());
    assertEquals(2, e.previousOutcome("t", "t1").orElseThrow().fills().size());
    assertEquals(OrderStatus.PARTIALLY_FILLED, e.orderByClientId("m", "a2").orElseThrow().status());
    assertEquals(
        OrderStatus.PARTIALLY_FILLED, e.orderByClientId("k", "bid-\u00e9").orElseThrow().status());
    assertEquals(2, e.rejected());
    assertTrue(e.previousOutcome("r", "r1").isEmpty() && e.previousOutcome("m", "a1").isEmpty());
  }

  @Test
  void startsWithTheFormatVersion() {
    byte[] b = scenario().snapshotBytes();
    assertEquals(InstrumentEngine.BINARY_FORMAT, (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]);
    b[3] = 2;
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> InstrumentEngine.restoreBytes(b, 1_000, LIMITS, 4));
    assertTrue(e.getMessage().contains("unsupported binary snapshot format 2"), e.getMessage());
  }

  @Test
  void roundTripContinuesIdenticallyAlsoWithEviction() {
    for (int retention :
        new int[] {0, 3, 100, InstrumentEngine.DEFAULT_RETAINED_COMPLETED_ORDERS}) {
      InstrumentEngine engine = new InstrumentEngine("BTC-USD", 1_000, LIMITS, retention);
      List<EngineDriver.Command> commands = EngineDriver.randomCommands(17, 4_000);
      for (EngineDriver.Command c : commands.subList(0, 2_000))
        EngineDriver.run(engine, c, new ArrayList<>());
      byte[] bytes = engine.snapshotBytes();
      InstrumentEngine restored = InstrumentEngine.restoreBytes(bytes, 1_000, LIMITS, retention);
      assertEquals(engine.stateDigest(), restored.stateDigest());
      assertEquals(engine.snapshot(), restored.snapshot());
      assertEquals(engine.restingOrders(), restored.restingOrders());
      assertEquals(engine.positions(), restored.positions());
      assertEquals(engine.rejectedByReason(), restored.rejectedByReason());
      assertEquals(engine.completedOrdersInMemory(), restored.completedOrdersInMemory());
      for (EngineDriver.Command c : commands.subList(2_000, commands.size())) {
        assertEquals(
            EngineDriver.run(engine, c, new ArrayList<>()),
            EngineDriver.run(restored, c, new ArrayList<>()),
            "retention " + retention + ": " + c);
      }
      assertEquals(engine.stateDigest(), restored.stateDigest(), "retention " + retention);
      assertArrayEquals(engine.snapshotBytes(), restored.snapshotBytes());
    }
  }

  @Test
  void aSmallerWindowOnRestoreForgetsTheOldestCompletedLikeTheRecordForm() {
    InstrumentEngine e = scenario();
    for (int n = 0; n <= 5; n++) {
      InstrumentEngine fromBytes =
          InstrumentEngine.restoreBytes(e.snapshotBytes(), 1_000, LIMITS, n);
      InstrumentEngine fromRecords = InstrumentEngine.restore(e.snapshot(), 1_000, LIMITS, n);
      assertEquals(Math.min(n, 4), fromBytes.completedOrdersInMemory());
      assertArrayEquals(fromRecords.snapshotBytes(), fromBytes.snapshotBytes(), "window " + n);
    }
  }

  @Test
  void everyStringRoundTripsExactlyEvenWhereUtf8CannotSayIt() {
    String[] ids = {
      "plain",
      "caf\u00e9",
      "\u4e2d\u6587",
      "emoji-\ud83d\ude00",
      "lone-high-\ud800",
      "lone-low-\udc00x",
      "reversed-\udc00\ud800",
      "\u0000nul",
      "\u07ff\u0800\uffff"
    };
    InstrumentEngine e = new InstrumentEngine("\u00e9-USD", 1_000, LIMITS, 100);
    for (int i = 0; i < ids.length; i++) {
      e.place(
          OrderRequest.limit(
              "acct-" + ids[i], ids[i], i % 2 == 0 ? BUY : SELL, i % 2 == 0 ? 990 : 1010, 1, GTC));
      e.place(OrderRequest.limit("acct-" + ids[i], ids[i] + "-ioc", BUY, 950, 1, IOC));
    }
    InstrumentEngine restored =
        InstrumentEngine.restoreBytes(e.snapshotBytes(), 1_000, LIMITS, 100);
    assertEquals(e.snapshot(), restored.snapshot());
    assertEquals("\u00e9-USD", restored.instrument());
    for (String id : ids) {
      assertEquals(
          e.previousOutcome("acct-" + id, id), restored.previousOutcome("acct-" + id, id), id);
    }
    // Well-formed strings are plain UTF-8: "café" is 63 61 66 c3 a9 after its length.
    assertTrue(HexFormat.of().formatHex(e.snapshotBytes()).contains("05636166c3a9"));
  }

  @Test
  void theDigestIsTheSha256OfTheSnapshotBytes() throws Exception {
    InstrumentEngine e = scenario();
    assertEquals(
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(e.snapshotBytes())),
        e.stateDigest());
    assertArrayEquals(e.snapshotBytes(), e.canonicalState());
  }

  @Test
  void theBytesAreAFunctionOfTheStateNotOfHowItWasReached() {
    // Replayed, restored from records, restored from bytes: same state, same bytes.
    InstrumentEngine live = new InstrumentEngine("X", 1_000, LIMITS, 50);
    List<EngineDriver.Event> journal = new ArrayList<>();
    for (EngineDriver.Command c : EngineDriver.randomCommands(5, 3_000))
      EngineDriver.run(live, c, journal);
    InstrumentEngine replayed = new InstrumentEngine("X", 1_000, new RiskLimits(1, 1, 0, 0, 0), 50);
    EngineDriver.replay(replayed, journal);
    byte[] bytes = live.snapshotBytes();
    assertArrayEquals(bytes, replayed.snapshotBytes());
    assertArrayEquals(
        bytes, InstrumentEngine.restore(live.snapshot(), 1_000, LIMITS, 50).snapshotBytes());
    assertArrayEquals(
        bytes, InstrumentEngine.restoreBytes(bytes, 1_000, LIMITS, 50).snapshotBytes());
    // Restoring into a larger window changes nothing; the window bound itself is configuration.
    assertArrayEquals(
        bytes, InstrumentEngine.restoreBytes(bytes, 1_000, LIMITS, 5_000).snapshotBytes());
  }

  @Test
  void muchSmallerThanTheRecordFormInCbor() throws Exception {
    InstrumentEngine engine = new InstrumentEngine("BTC-USD", 1_000, LIMITS, 1_000);
    for (EngineDriver.Command c : EngineDriver.randomCommands(23, 5_000))
      EngineDriver.run(engine, c, new ArrayList<>());
    CBORMapper cbor = new CBORMapper();
    byte[] records = cbor.writeValueAsBytes(engine.snapshot());
    byte[] bytes = engine.snapshotBytes();
    byte[] wrapped = cbor.writeValueAsBytes(new EngineSnapshotBytes(bytes));
    assertTrue(
        bytes.length * 4 < records.length,
        bytes.length + " bytes vs " + records.length + " in CBOR");
    assertTrue(wrapped.length < bytes.length + 16, "one CBOR byte string: " + wrapped.length);
    EngineSnapshotBytes decoded = cbor.readValue(wrapped, EngineSnapshotBytes.class);
    assertEquals(new EngineSnapshotBytes(bytes), decoded);
    assertEquals(
        engine.stateDigest(),
        InstrumentEngine.restoreBytes(decoded.data(), 1_000, LIMITS, 1_000).stateDigest());
  }

  @Test
  void everyTruncationAndTrailingGarbageIsRefusedAsIllegalArgument() {
    byte[] b = scenario().snapshotBytes();
    for (int len = 0; len < b.length; len++) {
      byte[] cut = Arrays.copyOf(b, len);
      assertThrows(
          IllegalArgumentException.class,
          () -> InstrumentEngine.restoreBytes(cut, 1_000, LIMITS, 4),
          "truncated to " + len);
    }
    byte[] longer = Arrays.copyOf(b, b.length + 1);
    assertThrows(
        IllegalArgumentException.class,
        () -> InstrumentEngine.restoreBytes(longer, 1_000, LIMITS, 4));
  }

  @Test
  void aCorruptByteIsRefusedOrGivesSomeValidStateButNeverAnotherKindOfFailure() {
    byte[] b = scenario().snapshotBytes();
    Random rnd = new Random(1);
    int refused = 0;
    for (int i = 0; i < b.length; i++) {
      for (int k = 0; k < 8; k++) {
        byte[] bad = b.clone();
        bad[i] = (byte) (k == 0 ? bad[i] ^ 0x80 : rnd.nextInt(256));
        try {
          InstrumentEngine e = InstrumentEngine.restoreBytes(bad, 1_000, LIMITS, 4);
          assertArrayEquals(
              e.snapshotBytes(),
              InstrumentEngine.restoreBytes(e.snapshotBytes(), 1_000, LIMITS, 4).snapshotBytes());
        } catch (IllegalArgumentException expected) {
          refused++;
        } catch (RuntimeException other) {
          fail("byte " + i + " = " + bad[i] + ": " + other, other);
        }
      }
    }
    assertTrue(refused > b.length, "most corruptions are detected: " + refused);
  }

  @Test
  void restoreFromRecordsRefusesWhatTheBinaryFormCouldNotHold() {
    InstrumentEngine e = scenario();
    EngineSnapshot s = e.snapshot();
    // An outcome for another client order id.
    EngineSnapshot.OrderEntry t1 = s.orders().get(2);
    Outcome o = t1.originalOutcome();
    Outcome other =
        new Outcome(
            o.orderId(),
            o.account(),
            "other",
            o.status(),
            o.rejectReason(),
            o.fills(),
            o.filledQuantity(),
            o.remainingQuantity(),
            o.cancelledQuantity());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            InstrumentEngine.restore(
                withOrder(s, 2, new EngineSnapshot.OrderEntry(t1.order(), other)),
                1_000,
                LIMITS,
                4));
    // A fill naming another taker.
    Fill f = o.fills().get(0);
    Outcome otherTaker =
        new Outcome(
            o.orderId(),
            o.account(),
            o.clientOrderId(),
            o.status(),
            o.rejectReason(),
            List.of(
                new Fill(
                    f.makerOrderId(),
                    f.makerAccount(),
                    f.takerOrderId(),
                    "x",
                    f.takerSide(),
                    f.price(),
                    f.quantity()),
                o.fills().get(1)),
            o.filledQuantity(),
            o.remainingQuantity(),
            o.cancelledQuantity());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            InstrumentEngine.restore(
                withOrder(s, 2, new EngineSnapshot.OrderEntry(t1.order(), otherTaker)),
                1_000,
                LIMITS,
                4));
    // A resting order that differs from its record in anything but the remaining quantity.
    RestingOrder r = s.restingOrders().get(0);
    for (RestingOrder bad :
        List.of(
            new RestingOrder(
                r.orderId(),
                "x",
                r.clientOrderId(),
                r.side(),
                r.price(),
                r.originalQuantity(),
                r.remainingQuantity()),
            new RestingOrder(
                r.orderId(),
                r.account(),
                "x",
                r.side(),
                r.price(),
                r.originalQuantity(),
                r.remainingQuantity()),
            new RestingOrder(
                r.orderId(),
                r.account(),
                r.clientOrderId(),
                r.side().opposite(),
                r.price(),
                r.originalQuantity(),
                r.remainingQuantity()),
            new RestingOrder(
                r.orderId(),
                r.account(),
                r.clientOrderId(),
                r.side(),
                r.price() - 1,
                r.originalQuantity(),
                r.remainingQuantity()),
            new RestingOrder(
                r.orderId(),
                r.account(),
                r.clientOrderId(),
                r.side(),
                r.price(),
                r.originalQuantity() + 1,
                r.remainingQuantity()))) {
      List<RestingOrder> book = new ArrayList<>(s.restingOrders());
      book.set(0, bad);
      EngineSnapshot withBad =
          new EngineSnapshot(
              s.formatVersion(),
              s.instrument(),
              s.nextOrderId(),
              s.lastTradePrice(),
              s.accepted(),
              s.rejected(),
              s.rejectedByReason(),
              book,
              s.positions(),
              s.orders());
      assertThrows(
          IllegalArgumentException.class,
          () -> InstrumentEngine.restore(withBad, 1_000, LIMITS, 4),
          bad.toString());
    }
    assertEquals(e.stateDigest(), InstrumentEngine.restore(s, 1_000, LIMITS, 4).stateDigest());
  }

  @Test
  void theDigestSeesTheBookOrderWithinAPriceLevel() {
    InstrumentEngine a = new InstrumentEngine("X", 1_000, LIMITS);
    InstrumentEngine b = new InstrumentEngine("X", 1_000, LIMITS);
    a.place(OrderRequest.limit("p", "1", BUY, 990, 1, GTC));
    a.place(OrderRequest.limit("q", "2", BUY, 990, 1, GTC));
    b.place(OrderRequest.limit("p", "1", BUY, 990, 1, GTC));
    b.place(OrderRequest.limit("q", "2", BUY, 990, 1, GTC));
    assertEquals(a.stateDigest(), b.stateDigest());
    // Same records and positions, other time priority.
    EngineSnapshot s = a.snapshot();
    EngineSnapshot swapped =
        new EngineSnapshot(
            s.formatVersion(),
            s.instrument(),
            s.nextOrderId(),
            s.lastTradePrice(),
            s.accepted(),
            s.rejected(),
            s.rejectedByReason(),
            List.of(s.restingOrders().get(1), s.restingOrders().get(0)),
            s.positions(),
            s.orders());
    InstrumentEngine c = InstrumentEngine.restore(swapped, 1_000, LIMITS);
    assertNotEquals(a.stateDigest(), c.stateDigest());
    assertEquals(
        swapped.restingOrders(),
        InstrumentEngine.restoreBytes(c.snapshotBytes(), 1_000, LIMITS, 10).restingOrders());
  }

  @Test
  void primitivesRoundTripAtTheirLimits() {
    long[] values = {
      0, 1, 127, 128, 16_383, 16_384, Integer.MAX_VALUE, Long.MAX_VALUE, -1, Long.MIN_VALUE
    };
    ByteWriter w = new ByteWriter(0);
    for (long v : values) {
      w.uvarint(v);
      w.svarint(v);
    }
    w.int32(-2);
    w.byte1(255);
    w.string("");
    byte[] b = w.toByteArray();
    assertEquals(b.length, w.size());
    ByteReader r = new ByteReader(b);
    for (long v : values) {
      assertEquals(v, r.uvarint());
      assertEquals(v, r.svarint());
    }
    assertEquals(-2, r.int32());
    assertEquals(255, r.byte1());
    assertEquals("", r.string());
    r.expectEnd();

    ByteWriter one = new ByteWriter(0);
    one.uvarint(-1);
    assertEquals(10, one.size(), "a negative long takes 10 bytes");
    byte[] eleven = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1};
    assertThrows(IllegalArgumentException.class, () -> new ByteReader(eleven).uvarint());
    byte[] tooHigh = {-1, -1, -1, -1, -1, -1, -1, -1, -1, 2};
    assertThrows(IllegalArgumentException.class, () -> new ByteReader(tooHigh).uvarint());
    assertThrows(
        IllegalArgumentException.class, () -> new ByteReader(new byte[] {2, (byte) 0xC3}).string());
    assertThrows(
        IllegalArgumentException.class, () -> new ByteReader(new byte[] {1, (byte) 0x80}).string());
    assertThrows(
        IllegalArgumentException.class,
        () -> new ByteReader(new byte[] {2, (byte) 0xC0, (byte) 0x80}).string());
    assertThrows(
        IllegalArgumentException.class, () -> new ByteReader(new byte[] {5, 'a'}).string());
  }

  @Test
  void enumCodesAreStable() {
    // The codes are stored: these must never change (append new constants at the end).
    assertEquals(List.of(BUY, SELL), List.of(SnapshotCodes.SIDES));
    assertEquals(List.of(OrderType.LIMIT, OrderType.MARKET), List.of(SnapshotCodes.TYPES));
    assertEquals(List.of(GTC, IOC), List.of(SnapshotCodes.TIME_IN_FORCE));
    assertEquals(
        List.of(
            OrderStatus.NEW,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.REJECTED),
        List.of(SnapshotCodes.STATUSES));
    assertEquals(
        List.of(
            RejectReason.MAX_ORDER_QUANTITY,
            RejectReason.MAX_NOTIONAL,
            RejectReason.PRICE_BAND,
            RejectReason.POSITION_LIMIT,
            RejectReason.OPEN_ORDER_LIMIT),
        List.of(SnapshotCodes.REJECT_REASONS));
  }

  private static EngineSnapshot withOrder(
      EngineSnapshot s, int index, EngineSnapshot.OrderEntry entry) {
    List<EngineSnapshot.OrderEntry> orders = new ArrayList<>(s.orders());
    orders.set(index, entry);
    return new EngineSnapshot(
        s.formatVersion(),
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
