package com.shrivenquant.engine.core;

/** Aggregated depth at one price. */
public record Level(long price, long quantity, int orders) {}
