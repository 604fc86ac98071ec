package com.shrivenquant.failover.lease;

import java.util.Optional;

/**
 * The lease as the witness sees it now, by the witness's clock.
 *
 * @param holder the region holding it, empty before the first region took it
 * @param ageMillis time since the last renewal, witness clock
 */
public record LeaseState(Optional<String> holder, long epoch, long ageMillis, long ttlMillis) {
  public boolean expired() {
    return holder.isEmpty() || ageMillis > ttlMillis;
  }

  public boolean heldBy(String region) {
    return holder.isPresent() && holder.get().equals(region);
  }
}
