package com.shrivenquant.engine.core;

/** One trade. The price is always the maker's (resting) price. */
public record Fill(
    long makerOrderId,
    String makerAccount,
    long takerOrderId,
    String takerAccount,
    Side takerSide,
    long price,
    long quantity) {}
