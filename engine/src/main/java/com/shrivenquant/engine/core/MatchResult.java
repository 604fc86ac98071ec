package com.shrivenquant.engine.core;

import java.util.List;

/**
 * What {@link OrderBook#submit} did: filled + resting + cancelled always equals the submitted
 * quantity.
 */
public record MatchResult(
    long orderId,
    List<Fill> fills,
    long filledQuantity,
    long restingQuantity,
    long cancelledQuantity) {

  public MatchResult {
    fills = List.copyOf(fills);
  }
}
