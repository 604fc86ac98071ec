package com.shrivenquant.engine.core;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Full state of one {@link InstrumentEngine}: plain records, lists and maps, so that Jackson
 * serializes it without annotations. Risk limits and the configured reference price are
 * configuration, not state: they are passed to {@link InstrumentEngine#restore} instead. Snapshots
 * are persisted in the binary form ({@link InstrumentEngine#snapshotBytes()}, {@link
 * EngineSnapshotBytes}) now; this form stays for snapshots stored before, for tests and for
 * inspection.
 *
 * @param lastTradePrice 0 if there was no trade yet
 * @param restingOrders the book: bids then asks, each best level first, in time priority
 * @param positions sorted by account
 * @param orders the order records with their original outcomes (the idempotency memory): first the
 *     open orders by orderId, then the remembered completed records (rejected, filled, cancelled)
 *     in the order they completed, oldest first. The order is state: it decides which record is
 *     forgotten next. (Format 1: every record, sorted by orderId, then account, clientOrderId.)
 */
public record EngineSnapshot(
    int formatVersion,
    String instrument,
    long nextOrderId,
    long lastTradePrice,
    long accepted,
    long rejected,
    Map<RejectReason, Long> rejectedByReason,
    List<RestingOrder> restingOrders,
    List<PositionView> positions,
    List<OrderEntry> orders) {

  /** Open orders by id, then completed records in completion order (bounded by the engine). */
  public static final int CURRENT_FORMAT = 2;

  /**
   * Every record ever, sorted by order id; still restorable (see {@link InstrumentEngine#restore}).
   */
  public static final int FORMAT_UNBOUNDED = 1;

  public EngineSnapshot {
    EnumMap<RejectReason, Long> counts = new EnumMap<>(RejectReason.class);
    counts.putAll(rejectedByReason);
    rejectedByReason = Collections.unmodifiableMap(counts);
    restingOrders = List.copyOf(restingOrders);
    positions = List.copyOf(positions);
    orders = List.copyOf(orders);
  }

  /** One order's current state and the outcome its submitter got (returned again on retry). */
  public record OrderEntry(OrderView order, Outcome originalOutcome) {}
}
