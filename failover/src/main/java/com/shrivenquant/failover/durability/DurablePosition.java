package com.shrivenquant.failover.durability;

import com.shrivenquant.failover.region.FailoverSerializable;

/**
 * The publisher of {@code region}'s journal, running in {@code epoch}, has the broker's
 * acknowledgement for every row up to ordering {@code upTo}. Sent to every node of the region
 * (distributed pub-sub) the moment it holds; the waiting acknowledgements are released on it.
 */
public record DurablePosition(String region, long epoch, long upTo)
    implements FailoverSerializable {
  /** The topic's name: one per region, inside that region's cluster. */
  public static String topicName(String region) {
    return "sq-durable-position-" + region;
  }
}
