package com.shrivenquant.cluster.telemetry;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import kamon.Kamon;
import kamon.trace.Span;

/** {@code %node} in the human-readable log pattern: region, node, epoch and trace id if any. */
public final class NodeIdentityConverter extends ClassicConverter {
  @Override
  public String convert(ILoggingEvent event) {
    if (NodeIdentity.node().isEmpty()) return ""; // a launcher, not a node
    Span span = Kamon.currentSpan();
    String trace = span.isEmpty() ? "" : " trace=" + span.trace().id().string();
    return NodeIdentity.region() + " " + NodeIdentity.node() + " e" + NodeIdentity.epoch() + trace;
  }
}
