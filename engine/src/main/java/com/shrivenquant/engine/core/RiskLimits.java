package com.shrivenquant.engine.core;

/**
 * Pre-trade limits of one instrument.
 *
 * @param maxOrderQuantity largest quantity of a single order
 * @param maxNotional largest price x quantity of a single order
 * @param priceBandBps allowed distance from the reference price, in basis points
 * @param maxPosition largest absolute net position per account, counting open orders
 * @param maxOpenOrders resting orders per account
 */
public record RiskLimits(
    long maxOrderQuantity,
    long maxNotional,
    long priceBandBps,
    long maxPosition,
    int maxOpenOrders) {

  public RiskLimits {
    if (maxOrderQuantity <= 0) throw new IllegalArgumentException("maxOrderQuantity must be > 0");
    if (maxNotional <= 0) throw new IllegalArgumentException("maxNotional must be > 0");
    if (priceBandBps < 0) throw new IllegalArgumentException("priceBandBps must be >= 0");
    if (maxPosition < 0) throw new IllegalArgumentException("maxPosition must be >= 0");
    if (maxOpenOrders < 0) throw new IllegalArgumentException("maxOpenOrders must be >= 0");
  }
}
