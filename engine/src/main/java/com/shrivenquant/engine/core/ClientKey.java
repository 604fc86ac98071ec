package com.shrivenquant.engine.core;

/** The idempotency key: a clientOrderId identifies an order within its account. */
record ClientKey(String account, String clientOrderId) {}
