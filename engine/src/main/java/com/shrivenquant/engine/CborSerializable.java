package com.shrivenquant.engine;

/**
 * Marker for messages, events and replies serialized with Jackson CBOR (bound in reference.conf).
 */
public interface CborSerializable {}
