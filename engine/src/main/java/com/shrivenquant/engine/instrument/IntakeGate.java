package com.shrivenquant.engine.instrument;

/**
 * Whether this node may write orders now: failover closes it when the node's region is not ACTIVE
 * or its lease is not fresh. Checked again right before each journal write, so an order that queued
 * while the gate was open is refused (never written) once it closed.
 */
@FunctionalInterface
public interface IntakeGate {
  /** Null when open; otherwise why orders are refused (sent to the client). */
  String refusal();

  IntakeGate OPEN = () -> null;
}
