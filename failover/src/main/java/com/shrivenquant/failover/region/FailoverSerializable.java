package com.shrivenquant.failover.region;

/** Marker for failover messages that cross nodes; bound to Jackson CBOR in reference.conf. */
public interface FailoverSerializable {}
