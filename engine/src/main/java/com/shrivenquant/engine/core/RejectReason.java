package com.shrivenquant.engine.core;

/** Why pre-trade risk refused an order; {@link #message()} is meant for the client. */
public enum RejectReason {
  MAX_ORDER_QUANTITY("order quantity exceeds the maximum order quantity"),
  MAX_NOTIONAL("order notional (price x quantity) exceeds the maximum notional"),
  PRICE_BAND("limit price is outside the price band around the reference price"),
  POSITION_LIMIT("order could take the account's net position beyond its position limit"),
  OPEN_ORDER_LIMIT("account already has the maximum number of open orders");

  private final String message;

  RejectReason(String message) {
    this.message = message;
  }

  public String message() {
    return message;
  }
}
