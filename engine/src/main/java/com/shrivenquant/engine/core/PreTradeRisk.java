package com.shrivenquant.engine.core;

import java.util.Optional;

/**
 * Pre-trade risk checks. Pure functions of the order, the reference price, the limits and the
 * account's position, so that the decision can be taken before the event is persisted.
 *
 * <p>Checks run in this order and the first failure wins: order quantity, notional, price band,
 * position, open orders.
 */
public final class PreTradeRisk {
  private static final long BPS = 10_000;

  private PreTradeRisk() {}

  public static Optional<RejectReason> check(
      OrderRequest order, long referencePrice, RiskLimits limits, PositionView position) {
    return check(
        order,
        referencePrice,
        limits,
        position.netQuantity(),
        position.openBuyQuantity(),
        position.openSellQuantity(),
        position.openOrders());
  }

  public static Optional<RejectReason> check(
      OrderRequest order,
      long referencePrice,
      RiskLimits limits,
      long netQuantity,
      long openBuyQuantity,
      long openSellQuantity,
      int openOrders) {
    long qty = order.quantity();
    if (qty > limits.maxOrderQuantity()) return Optional.of(RejectReason.MAX_ORDER_QUANTITY);

    // MARKET is priced at its protection price: the worst price it is allowed to trade at.
    long price =
        order.type() == OrderType.MARKET
            ? protectionPrice(order.side(), referencePrice, limits)
            : order.price();
    try {
      if (Math.multiplyExact(price, qty) > limits.maxNotional())
        return Optional.of(RejectReason.MAX_NOTIONAL);
    } catch (ArithmeticException overflow) {
      return Optional.of(RejectReason.MAX_NOTIONAL);
    }

    if (order.type() == OrderType.LIMIT
        && (price > upperBand(referencePrice, limits)
            || price < lowerBand(referencePrice, limits))) {
      return Optional.of(RejectReason.PRICE_BAND);
    }

    // Worst case: every open order on the same side fills, and this one too.
    try {
      if (order.side() == Side.BUY) {
        if (Math.addExact(Math.addExact(netQuantity, openBuyQuantity), qty)
            > limits.maxPosition()) {
          return Optional.of(RejectReason.POSITION_LIMIT);
        }
      } else if (Math.subtractExact(Math.subtractExact(netQuantity, openSellQuantity), qty)
          < -limits.maxPosition()) {
        return Optional.of(RejectReason.POSITION_LIMIT);
      }
    } catch (ArithmeticException overflow) {
      return Optional.of(RejectReason.POSITION_LIMIT);
    }

    boolean couldRest = order.type() == OrderType.LIMIT && order.timeInForce() == TimeInForce.GTC;
    if (couldRest && openOrders >= limits.maxOpenOrders())
      return Optional.of(RejectReason.OPEN_ORDER_LIMIT);

    return Optional.empty();
  }

  /**
   * Protection price of a MARKET order: the band edge on the side it trades through (upper edge for
   * a buy, lower edge for a sell; never below one tick).
   */
  public static long protectionPrice(Side side, long referencePrice, RiskLimits limits) {
    return side == Side.BUY ? upperBand(referencePrice, limits) : lowerBand(referencePrice, limits);
  }

  /** Highest allowed limit price: reference + floor(reference * band / 10000), saturating. */
  public static long upperBand(long referencePrice, RiskLimits limits) {
    long d = bandDistance(referencePrice, limits.priceBandBps());
    return d > Long.MAX_VALUE - referencePrice ? Long.MAX_VALUE : referencePrice + d;
  }

  /** Lowest allowed limit price: reference - floor(reference * band / 10000), at least 1 tick. */
  public static long lowerBand(long referencePrice, RiskLimits limits) {
    long d = bandDistance(referencePrice, limits.priceBandBps());
    return d >= referencePrice ? 1 : referencePrice - d;
  }

  private static long bandDistance(long referencePrice, long bps) {
    if (referencePrice <= 0) throw new IllegalArgumentException("reference price must be > 0");
    long hi = Math.multiplyHigh(referencePrice, bps);
    long lo = referencePrice * bps;
    // Both factors are non-negative: the product fits in a long iff the high word is 0 and lo >= 0.
    if (hi != 0 || lo < 0) return Long.MAX_VALUE;
    return lo / BPS;
  }
}
