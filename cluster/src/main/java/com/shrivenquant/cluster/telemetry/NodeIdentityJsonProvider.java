package com.shrivenquant.cluster.telemetry;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import kamon.Kamon;
import kamon.trace.Span;
import net.logstash.logback.composite.AbstractJsonProvider;

/**
 * Adds region, node and epoch to every JSON log line, and the trace and span ids when the line is
 * logged inside a span (Kamon's context of the logging thread).
 */
public final class NodeIdentityJsonProvider extends AbstractJsonProvider<ILoggingEvent> {
  @Override
  public void writeTo(JsonGenerator generator, ILoggingEvent event) throws IOException {
    generator.writeStringField("region", NodeIdentity.region());
    generator.writeStringField("node", NodeIdentity.node());
    generator.writeNumberField("epoch", NodeIdentity.epoch());
    Span span = Kamon.currentSpan();
    if (!span.isEmpty()) {
      generator.writeStringField("trace_id", span.trace().id().string());
      generator.writeStringField("span_id", span.id().string());
    }
  }
}
