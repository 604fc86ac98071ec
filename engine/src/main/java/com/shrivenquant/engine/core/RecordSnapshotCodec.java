package com.shrivenquant.engine.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The record form of a snapshot, {@link EngineSnapshot}: see {@link InstrumentEngine#snapshot()}.
 */
final class RecordSnapshotCodec {
  private static final Comparator<OrderRecord> BY_ORDER_ID =
      Comparator.comparingLong((OrderRecord r) -> r.orderId);

  private RecordSnapshotCodec() {}

  static EngineSnapshot write(InstrumentEngine e) {
    List<RestingOrder> resting = e.book.restingOrders();
    OrderRecord[] open = new OrderRecord[resting.size()];
    for (int i = 0; i < open.length; i++) open[i] = e.records.byOrderId(resting.get(i).orderId());
    Arrays.sort(open, BY_ORDER_ID);
    List<EngineSnapshot.OrderEntry> entries =
        new ArrayList<>(open.length + e.records.completedRetained());
    for (OrderRecord rec : open) entries.add(rec.entry());
    e.records.forEachCompleted(rec -> entries.add(rec.entry()));
    return new EngineSnapshot(
        EngineSnapshot.CURRENT_FORMAT,
        e.instrument(),
        e.nextOrderId,
        e.lastTradePrice,
        e.accepted,
        e.rejected,
        e.rejectedByReason(),
        resting,
        e.positions(),
        entries);
  }

  /** See {@link InstrumentEngine#restore(EngineSnapshot, long, RiskLimits, int)}. */
  static InstrumentEngine read(
      EngineSnapshot s, long referencePrice, RiskLimits limits, int retainedCompletedOrders) {
    if (s.formatVersion() != EngineSnapshot.CURRENT_FORMAT
        && s.formatVersion() != EngineSnapshot.FORMAT_UNBOUNDED) {
      throw new IllegalArgumentException("unsupported snapshot format " + s.formatVersion());
    }
    InstrumentEngine e =
        new InstrumentEngine(s.instrument(), referencePrice, limits, retainedCompletedOrders);
    e.nextOrderId = s.nextOrderId();
    e.lastTradePrice = s.lastTradePrice();
    e.accepted = s.accepted();
    e.rejected = s.rejected();
    s.rejectedByReason().forEach((reason, n) -> e.rejectedByReason[reason.ordinal()] = n);
    int open = 0;
    for (EngineSnapshot.OrderEntry entry : s.orders()) {
      OrderRecord rec = OrderRecord.from(entry.order(), entry.originalOutcome());
      e.records.restore(rec);
      if (rec.open()) open++;
    }
    e.records.trimToRetention();
    for (PositionView p : s.positions()) e.positions.put(PositionState.from(p));
    for (RestingOrder o : s.restingOrders()) {
      OrderRecord rec = e.records.byOrderId(o.orderId());
      if (rec == null
          || rec.remaining != o.remainingQuantity()
          || !rec.account.equals(o.account())
          || !rec.clientOrderId.equals(o.clientOrderId())
          || rec.side != o.side()
          || rec.effectivePrice != o.price()
          || rec.quantity != o.originalQuantity()) {
        throw new IllegalArgumentException(
            "resting order " + o.orderId() + " does not match its order record");
      }
      e.book.restore(
          o.orderId(),
          o.side(),
          o.price(),
          o.originalQuantity(),
          o.remainingQuantity(),
          rec.account,
          rec.clientOrderId,
          rec);
    }
    if (open != s.restingOrders().size()) {
      throw new IllegalArgumentException(
          open + " open order records but " + s.restingOrders().size() + " resting orders");
    }
    return e;
  }
}
