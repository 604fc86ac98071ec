package com.shrivenquant.engine.core;

import java.util.List;

/**
 * The answer to placing an order. Remembered per (account, clientOrderId): a retry gets this same
 * object back, never a second execution.
 *
 * @param orderId 0 if rejected
 * @param rejectReason null unless rejected
 * @param remainingQuantity quantity left resting in the book
 */
public record Outcome(
    long orderId,
    String account,
    String clientOrderId,
    OrderStatus status,
    RejectReason rejectReason,
    List<Fill> fills,
    long filledQuantity,
    long remainingQuantity,
    long cancelledQuantity) {

  public Outcome {
    fills = List.copyOf(fills);
  }

  static Outcome rejected(OrderRequest r, RejectReason reason) {
    return new Outcome(
        0, r.account(), r.clientOrderId(), OrderStatus.REJECTED, reason, List.of(), 0, 0, 0);
  }
}
