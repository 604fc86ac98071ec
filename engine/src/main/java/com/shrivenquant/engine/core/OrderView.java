package com.shrivenquant.engine.core;

/**
 * Current state of one order (or of one rejected request, with orderId 0).
 *
 * @param price as requested; 0 for MARKET
 * @param effectivePrice the price bound used for matching: the limit price, or for MARKET the
 *     protection price taken from the band at acceptance (0 if rejected)
 * @param remainingQuantity quantity still resting in the book
 */
public record OrderView(
    long orderId,
    String account,
    String clientOrderId,
    Side side,
    OrderType type,
    TimeInForce timeInForce,
    long price,
    long effectivePrice,
    long quantity,
    long filledQuantity,
    long remainingQuantity,
    long cancelledQuantity,
    OrderStatus status,
    RejectReason rejectReason) {

  public OrderRequest request() {
    return new OrderRequest(account, clientOrderId, side, type, price, quantity, timeInForce);
  }
}
