package com.shrivenquant.engine.core;

/** Immutable view of an order resting in a book; also the unit of a book snapshot. */
public record RestingOrder(
    long orderId,
    String account,
    String clientOrderId,
    Side side,
    long price,
    long originalQuantity,
    long remainingQuantity) {}
