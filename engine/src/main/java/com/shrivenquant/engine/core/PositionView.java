package com.shrivenquant.engine.core;

/** One account's position in one instrument. Notionals are sums of trade price x quantity. */
public record PositionView(
    String account,
    long netQuantity,
    long boughtQuantity,
    long soldQuantity,
    long buyNotional,
    long sellNotional,
    long openBuyQuantity,
    long openSellQuantity,
    int openOrders) {

  public static PositionView empty(String account) {
    return new PositionView(account, 0, 0, 0, 0, 0, 0, 0, 0);
  }
}
