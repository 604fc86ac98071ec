package com.shrivenquant.engine.core;

/** A MARKET order never rests: it is always handled as IOC, whatever time in force it carries. */
public enum OrderType {
  LIMIT,
  MARKET
}
