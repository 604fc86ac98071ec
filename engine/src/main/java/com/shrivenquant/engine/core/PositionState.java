package com.shrivenquant.engine.core;

/** Mutable position of one account; {@link PositionView} is its published form. */
final class PositionState {
  final String account;
  long net;
  long bought;
  long sold;
  long buyNotional;
  long sellNotional;
  long openBuy;
  long openSell;
  int openOrders;

  PositionState(String account) {
    this.account = account;
  }

  void bought(long q, long notional) {
    net += q;
    bought += q;
    buyNotional += notional;
  }

  void sold(long q, long notional) {
    net -= q;
    sold += q;
    sellNotional += notional;
  }

  PositionView view() {
    return new PositionView(
        account, net, bought, sold, buyNotional, sellNotional, openBuy, openSell, openOrders);
  }

  static PositionState from(PositionView v) {
    PositionState p = new PositionState(v.account());
    p.net = v.netQuantity();
    p.bought = v.boughtQuantity();
    p.sold = v.soldQuantity();
    p.buyNotional = v.buyNotional();
    p.sellNotional = v.sellNotional();
    p.openBuy = v.openBuyQuantity();
    p.openSell = v.openSellQuantity();
    p.openOrders = v.openOrders();
    return p;
  }
}
