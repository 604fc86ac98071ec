package com.shrivenquant.engine.core;

/**
 * The answer to a cancel request. Only {@link Status#CANCELLED} changed any state.
 *
 * @param cancelled the order as it rested just before the cancel; null unless CANCELLED
 * @param cancelledQuantity quantity taken out of the book; 0 unless CANCELLED
 */
public record CancelResult(
    Status status, long orderId, RestingOrder cancelled, long cancelledQuantity) {

  public enum Status {
    CANCELLED,
    /** No order with this id in this instrument. */
    UNKNOWN_ORDER,
    /** Already filled, cancelled or never rested (IOC, market, rejected). */
    NOT_OPEN,
    /** The order belongs to another account; says nothing more about it. */
    WRONG_ACCOUNT
  }

  static CancelResult of(Status status, long orderId) {
    return new CancelResult(status, orderId, null, 0);
  }
}
