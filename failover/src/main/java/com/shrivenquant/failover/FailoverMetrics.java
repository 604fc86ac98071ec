package com.shrivenquant.failover;

import com.shrivenquant.failover.notify.Incident;
import kamon.Kamon;
import kamon.metric.MeasurementUnit;
import kamon.metric.Metric;

/**
 * Failovers as the region that takes over sees them, and planned switchovers as the region that
 * hands over sees them. Drills run outside the nodes (bin/shrivenquant drill reports its own
 * figures); what a node can time of a drill is the switchover it is asked for, so that is {@code
 * sq.drill.duration}.
 */
public final class FailoverMetrics {
  private static final Metric.Counter FAILOVERS =
      Kamon.counter(
          "sq.failovers",
          "Promotions of this region to ACTIVE, by kind (promotion: unplanned, switchover: planned)");
  private static final Metric.Histogram FAILOVER_DURATION =
      Kamon.histogram(
          "sq.failover.duration",
          "Decision to promote -> this region ACTIVE (lease taken, replicated records drained, entities recovered)",
          MeasurementUnit.time().milliseconds());
  private static final Metric.Histogram DRILL_DURATION =
      Kamon.histogram(
          "sq.drill.duration",
          "Planned switchover on the region handing over: request -> lease handed to the peer",
          MeasurementUnit.time().milliseconds());

  static {
    // Declared from the start: a counter that appears at 1 hides its first increase, and a
    // metric without instruments is not exported at all.
    for (String kind : new String[] {"promotion", "switchover"}) {
      FAILOVERS.withTag("kind", kind);
      FAILOVER_DURATION.withTag("kind", kind);
    }
    DRILL_DURATION.withoutTags();
  }

  private FailoverMetrics() {}

  /** Loads the metrics, so that a node that never failed over exports them too. */
  public static void declare() {}

  /** A promotion's or switchover's incident, once notified. Failbacks are not failovers. */
  public static void incident(Incident incident) {
    long active = incident.stepAt("active");
    if (active < 0) return;
    FAILOVERS.withTag("kind", incident.kind()).increment();
    FAILOVER_DURATION
        .withTag("kind", incident.kind())
        .record(Math.max(0, active - incident.decidedAt()));
  }

  public static void switchoverHandedOver(long tookMillis) {
    DRILL_DURATION.withoutTags().record(Math.max(0, tookMillis));
  }
}
