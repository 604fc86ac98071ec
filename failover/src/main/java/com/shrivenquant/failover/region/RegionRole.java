package com.shrivenquant.failover.region;

/** What a region does; only an ACTIVE region with a fresh lease accepts orders. */
public enum RegionRole {
  ACTIVE,
  STANDBY,
  /** Lost primacy to a newer epoch: accepts nothing until its tail is set aside and it resynced. */
  FENCED
}
