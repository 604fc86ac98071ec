package com.shrivenquant.engine.core;

/**
 * An order as the client sent it. Only structural checks here: the HTTP layer validates input and
 * answers 4xx; this constructor just keeps nonsense out of the journal.
 *
 * @param price limit price in ticks; 0 for MARKET (its protection price comes from the band)
 */
public record OrderRequest(
    String account,
    String clientOrderId,
    Side side,
    OrderType type,
    long price,
    long quantity,
    TimeInForce timeInForce) {

  public OrderRequest {
    requireText(account, "account");
    requireText(clientOrderId, "clientOrderId");
    if (side == null) throw new IllegalArgumentException("side is required");
    if (type == null) throw new IllegalArgumentException("type is required");
    if (timeInForce == null) throw new IllegalArgumentException("timeInForce is required");
    if (quantity <= 0) throw new IllegalArgumentException("quantity must be > 0");
    if (type == OrderType.LIMIT && price <= 0) {
      throw new IllegalArgumentException("a limit order needs a price > 0");
    }
    // A client who sends a price with a market order probably thinks it is a limit.
    if (type == OrderType.MARKET && price != 0) {
      throw new IllegalArgumentException("a market order carries no price (use 0)");
    }
  }

  public static OrderRequest limit(
      String account,
      String clientOrderId,
      Side side,
      long price,
      long quantity,
      TimeInForce timeInForce) {
    return new OrderRequest(
        account, clientOrderId, side, OrderType.LIMIT, price, quantity, timeInForce);
  }

  public static OrderRequest market(
      String account, String clientOrderId, Side side, long quantity) {
    return new OrderRequest(
        account, clientOrderId, side, OrderType.MARKET, 0, quantity, TimeInForce.IOC);
  }

  private static void requireText(String s, String name) {
    if (s == null || s.isBlank()) throw new IllegalArgumentException(name + " must not be blank");
  }
}
