package com.shrivenquant.engine.instrument;

import com.shrivenquant.engine.core.RejectReason;
import com.shrivenquant.engine.instrument.InstrumentEntity.Event;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderAccepted;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderRejected;
import java.util.List;
import java.util.Locale;
import kamon.Kamon;
import kamon.metric.Counter;
import kamon.metric.Gauge;
import kamon.metric.Metric;

/**
 * The decisions the entities journal, counted once each (a retried clientOrderId is not counted
 * again), and their open orders. Names are the Prometheus names without the suffix Kamon adds
 * (k8s/monitoring-tests/node-metrics.txt).
 */
final class InstrumentMetrics {
  private static final Counter ACCEPTED =
      Kamon.counter("sq.orders.accepted", "Orders accepted by pre-trade risk and journaled")
          .withoutTags();
  private static final Metric.Counter REJECTED =
      Kamon.counter(
          "sq.orders.rejected", "Orders rejected by pre-trade risk and journaled, by reason");
  private static final Counter[] REJECTED_BY_REASON = new Counter[RejectReason.values().length];
  private static final Counter POSITION_LIMIT_BREACHES =
      Kamon.counter(
              "sq.position.limit.breaches",
              "Orders refused because they would take an account past its position limit")
          .withoutTags();
  private static final Metric.Gauge OPEN_ORDERS =
      Kamon.gauge("sq.open.orders", "Orders resting in the book, per instrument held by this node");

  static {
    for (RejectReason r : RejectReason.values())
      REJECTED_BY_REASON[r.ordinal()] =
          REJECTED.withTag("reason", r.name().toLowerCase(Locale.ROOT));
  }

  private InstrumentMetrics() {}

  /** After a batch is durable: its decisions. */
  static void journaled(List<Event> events) {
    for (Event e : events) {
      if (e instanceof OrderAccepted) {
        ACCEPTED.increment();
      } else if (e instanceof OrderRejected r) {
        REJECTED_BY_REASON[r.reason().ordinal()].increment();
        if (r.reason() == RejectReason.POSITION_LIMIT) POSITION_LIMIT_BREACHES.increment();
      }
    }
  }

  /**
   * The instrument's open-orders gauge; 0 once the entity left this node (at most one series per
   * instrument).
   */
  static Gauge openOrders(String instrument) {
    return OPEN_ORDERS.withTag("instrument", instrument);
  }
}
