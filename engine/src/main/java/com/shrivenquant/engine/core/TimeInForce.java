package com.shrivenquant.engine.core;

/** GTC rests the unfilled remainder of a limit order; IOC cancels it. */
public enum TimeInForce {
  GTC,
  IOC
}
