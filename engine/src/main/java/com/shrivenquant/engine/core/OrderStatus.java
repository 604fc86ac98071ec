package com.shrivenquant.engine.core;

public enum OrderStatus {
  /** Resting, nothing filled yet. */
  NEW,
  /** Resting with some quantity filled. */
  PARTIALLY_FILLED,
  FILLED,
  /** IOC/market remainder cancelled, or cancelled on request; may carry fills. */
  CANCELLED,
  REJECTED
}
