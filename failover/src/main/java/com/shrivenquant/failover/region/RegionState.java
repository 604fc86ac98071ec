package com.shrivenquant.failover.region;

/** A region's role in an epoch, as stored in the region's own database. */
public record RegionState(String region, RegionRole role, long epoch, String reason) {}
