package com.shrivenquant.engine.core;

import java.util.Objects;

/** Mutable state of one order or rejected request, and the outcome its submitter got. */
final class OrderRecord {
  final long orderId;
  final ClientKey key;
  final String account;
  final String clientOrderId;
  final Side side;
  final OrderType type;
  final TimeInForce tif;
  final long price;
  final long effectivePrice;
  final long quantity;
  long filled;
  long remaining;
  long cancelled;
  OrderStatus status;
  RejectReason rejectReason;
  Outcome outcome;

  /**
   * Completed and no longer remembered (it may still sit in {@link OrderRecords}' completion
   * queue).
   */
  boolean forgotten;

  OrderRecord(long orderId, ClientKey key, OrderRequest r, long effectivePrice) {
    this(
        orderId,
        key,
        r.account(),
        r.clientOrderId(),
        r.side(),
        r.type(),
        r.timeInForce(),
        r.price(),
        effectivePrice,
        r.quantity());
  }

  OrderRecord(
      long orderId,
      ClientKey key,
      String account,
      String clientOrderId,
      Side side,
      OrderType type,
      TimeInForce tif,
      long price,
      long effectivePrice,
      long quantity) {
    this.orderId = orderId;
    this.key = key;
    this.account = account;
    this.clientOrderId = clientOrderId;
    this.side = side;
    this.type = type;
    this.tif = tif;
    this.price = price;
    this.effectivePrice = effectivePrice;
    this.quantity = quantity;
  }

  static OrderRecord from(OrderView v, Outcome outcome) {
    OrderRecord rec =
        new OrderRecord(
            v.orderId(),
            new ClientKey(v.account(), v.clientOrderId()),
            v.account(),
            v.clientOrderId(),
            v.side(),
            v.type(),
            v.timeInForce(),
            v.price(),
            v.effectivePrice(),
            v.quantity());
    rec.filled = v.filledQuantity();
    rec.remaining = v.remainingQuantity();
    rec.cancelled = v.cancelledQuantity();
    rec.status = v.status();
    rec.rejectReason = v.rejectReason();
    rec.outcome = Objects.requireNonNull(outcome, "originalOutcome");
    return rec;
  }

  /** Still resting in the book; a record with nothing remaining can no longer change. */
  boolean open() {
    return remaining > 0;
  }

  EngineSnapshot.OrderEntry entry() {
    return new EngineSnapshot.OrderEntry(view(), outcome);
  }

  OrderView view() {
    return new OrderView(
        orderId,
        account,
        clientOrderId,
        side,
        type,
        tif,
        price,
        effectivePrice,
        quantity,
        filled,
        remaining,
        cancelled,
        status,
        rejectReason);
  }
}
