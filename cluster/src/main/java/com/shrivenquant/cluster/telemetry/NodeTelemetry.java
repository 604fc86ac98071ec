package com.shrivenquant.cluster.telemetry;

import com.shrivenquant.failover.FailoverMetrics;
import com.shrivenquant.failover.region.PrimacyAgent;
import com.shrivenquant.failover.region.RegionRole;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import kamon.Kamon;
import kamon.metric.Gauge;
import kamon.metric.MeasurementUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's metrics, logs and traces: Kamon with its Prometheus endpoint, JVM and host metrics (no
 * instrumentation agent: the order path records its own figures), the region's role, epoch and
 * lease age, OTLP span export when an endpoint is configured, and the identity every log line
 * carries. Kamon is process-wide: the first node started in a JVM configures it.
 */
public final class NodeTelemetry {
  private static final Logger log = LoggerFactory.getLogger(NodeTelemetry.class);
  private static final Duration GAUGE_REFRESH = Duration.ofSeconds(1);
  private static boolean started;

  private NodeTelemetry() {}

  /** Before anything else of the node runs, so that its first log lines already say who it is. */
  public static synchronized void start(Config config, TelemetrySettings settings) {
    NodeIdentity.set(settings.region(), settings.node());
    if (!settings.enabled()) {
      log.warn("Telemetry off (shrivenquant.telemetry.enabled): no metrics endpoint, no spans");
      return;
    }
    if (started) {
      log.info(
          "Telemetry already runs in this JVM (Kamon is process-wide); node {} shares it",
          settings.node());
      return;
    }
    started = true;
    Kamon.initWithoutAttaching(kamonConfig(config, settings));
    log.info(
        "Telemetry: Prometheus on {}:{}{}, traces {}",
        config.getString("kamon.prometheus.embedded-server.hostname"),
        config.getInt("kamon.prometheus.embedded-server.port"),
        config.getString("kamon.prometheus.embedded-server.metrics-path"),
        settings.exportsTraces()
            ? "to " + settings.otlpEndpoint() + " (" + settings.otlpProtocol() + ")"
            : "not exported");
  }

  static Config kamonConfig(Config config, TelemetrySettings settings) {
    Map<String, Object> overrides = new HashMap<>();
    // Not "region": Kamon's JVM memory metrics have a region tag of their own (heap, non-heap).
    overrides.put("kamon.environment.tags.sq_region", settings.region());
    overrides.put("kamon.environment.tags.sq_node", settings.node());
    overrides.put("kamon.environment.instance", settings.node());
    if (settings.exportsTraces()) {
      overrides.put("kamon.modules.otel-trace-reporter.enabled", true);
      overrides.put("kamon.otel.trace.endpoint", settings.otlpEndpoint());
      overrides.put("kamon.otel.trace.protocol", settings.otlpProtocol());
    }
    return ConfigFactory.parseMap(overrides).withFallback(config);
  }

  /**
   * The region's role, epoch and lease age as gauges, and the epoch in every log line. With
   * failover off the node accepts orders without a lease: active, epoch 0, no lease age.
   */
  public static void watch(Optional<PrimacyAgent> agent) {
    var epoch =
        Kamon.gauge("sq.region.epoch", "The region's fencing epoch as this node knows it")
            .withoutTags();
    var active =
        Kamon.gauge(
                "sq.region.active", "1 when this node accepts orders (region ACTIVE, lease fresh)")
            .withoutTags();
    var leaseAge =
        Kamon.gauge(
            "sq.lease.age",
            "ACTIVE: time since this node's last successful lease renewal began (it fences itself at the fence margin);"
                + " otherwise: the lease's age at the witness when last read",
            MeasurementUnit.time().milliseconds());
    if (agent.isEmpty()) {
      active.update(1);
      epoch.update(0);
      return;
    }
    FailoverMetrics.declare();
    PrimacyAgent a = agent.get();
    a.onChange(s -> NodeIdentity.epoch(s.epoch()));
    NodeIdentity.epoch(a.status().epoch());
    refreshed(epoch, g -> g.update(a.status().epoch()));
    refreshed(active, g -> g.update(a.status().accepting() ? 1 : 0));
    refreshed(leaseAge.withoutTags(), g -> leaseAgeMillis(a.status()).ifPresent(g::update));
  }

  private static void refreshed(Gauge gauge, Consumer<Gauge> update) {
    gauge.autoUpdate(update, GAUGE_REFRESH);
  }

  private static Optional<Double> leaseAgeMillis(PrimacyAgent.Status s) {
    if (s.role() == RegionRole.ACTIVE && s.lastRenewStartNanos() != Long.MIN_VALUE)
      return Optional.of((System.nanoTime() - s.lastRenewStartNanos()) / 1e6);
    return s.lastLeaseRead().map(l -> (double) l.ageMillis());
  }
}
