package com.shrivenquant.cluster.telemetry;

import com.shrivenquant.engine.instrument.OrderTraces;
import java.util.Optional;
import kamon.Kamon;
import kamon.metric.Histogram;
import kamon.metric.MeasurementUnit;
import kamon.trace.Span;

/**
 * The order-entry side of an order: its ack latency (request parsed -> decision rendered, the
 * figure the 10 ms alert watches) and its server span, whose context the entity continues.
 * Decisions themselves (accepted, rejected by reason) are counted by the entity that journals them.
 */
public final class OrderMetrics {
  private static final Histogram ACK_LATENCY =
      Kamon.histogram(
              "sq.order.ack.latency",
              "Order request parsed -> its decision (accepted or rejected) answered, durable as configured",
              MeasurementUnit.time().nanoseconds())
          .withoutTags();

  private OrderMetrics() {}

  /**
   * @param traceParent the client's W3C {@code traceparent} header, if it sent one
   */
  public static Ack start(Optional<String> traceParent) {
    Span span =
        Kamon.serverSpanBuilder("POST /api/v1/orders", "akka.http.server")
            .asChildOf(OrderTraces.parent(traceParent.orElse(null)))
            .doNotTrackMetrics()
            .start();
    return new Ack(System.nanoTime(), span);
  }

  /** One order on its way through the API. */
  public static final class Ack {
    private final long startNanos;
    private final Span span;

    private Ack(long startNanos, Span span) {
      this.startNanos = startNanos;
      this.span = span;
    }

    /** For the command to the entity: null unless this order's trace is sampled. */
    public String traceParent() {
      return OrderTraces.traceParent(span);
    }

    /**
     * @param decided a decision was answered (200); otherwise why not
     */
    public void answered(int status, boolean decided, String instrument) {
      if (decided) ACK_LATENCY.record(System.nanoTime() - startNanos);
      span.tag("http.status_code", status).tag("instrument", instrument);
      if (!decided) span.fail("no decision: " + status);
      span.finish();
    }
  }
}
