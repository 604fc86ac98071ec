package com.shrivenquant.cluster.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import kamon.Kamon;
import kamon.context.Context;
import kamon.context.Storage;
import kamon.trace.Span;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JSON encoder of logback.xml with the node's provider: identity always, trace ids inside a
 * span.
 */
class NodeIdentityJsonProviderTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final LoggerContext CONTEXT = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
  static LogstashEncoder encoder;

  @BeforeAll
  static void start() {
    // Spans exist only once Kamon runs; nothing to report to, no endpoint to open.
    Kamon.initWithoutAttaching(
        ConfigFactory.parseString(
                "kamon.modules { prometheus-reporter.enabled = no, otel-trace-reporter.enabled = no,"
                    + " host-metrics.enabled = no, process-metrics.enabled = no, jvm-metrics.enabled = no }\n"
                    + "kamon.trace.sampler = always")
            .withFallback(ConfigFactory.load()));
    encoder = new LogstashEncoder();
    encoder.setContext(CONTEXT);
    encoder.addProvider(new NodeIdentityJsonProvider());
    encoder.start();
    NodeIdentity.set("region-2", "node-a");
    NodeIdentity.epoch(7);
  }

  @AfterAll
  static void stop() {
    encoder.stop();
    Kamon.stop();
  }

  static JsonNode encode(String message) throws Exception {
    LoggingEvent event =
        new LoggingEvent(
            NodeIdentityJsonProviderTest.class.getName(),
            CONTEXT.getLogger("test"),
            Level.INFO,
            message,
            null,
            null);
    return JSON.readTree(encoder.encode(event));
  }

  @Test
  void everyLineNamesRegionNodeAndEpoch() throws Exception {
    JsonNode line = encode("outside any span");
    assertEquals("region-2", line.path("region").asText());
    assertEquals("node-a", line.path("node").asText());
    assertEquals(7, line.path("epoch").asLong());
    assertFalse(line.has("trace_id"), line.toString());
  }

  @Test
  void aLineLoggedInsideASpanCarriesItsTraceAndSpanIds() throws Exception {
    Span span = Kamon.spanBuilder("test").start();
    assertFalse(span.isEmpty(), "Kamon runs");
    JsonNode line;
    try (Storage.Scope ignored = Kamon.storeContext(Context.of(Span.Key(), span))) {
      line = encode("inside");
    } finally {
      span.finish();
    }
    assertEquals(span.trace().id().string(), line.path("trace_id").asText());
    assertEquals(span.id().string(), line.path("span_id").asText());
    assertEquals(32, line.path("trace_id").asText().length(), "W3C-sized trace id");
  }
}
