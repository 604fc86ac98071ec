package com.shrivenquant.engine.instrument;

import com.shrivenquant.cluster.telemetry.NodeTelemetry;
import com.shrivenquant.cluster.telemetry.OrderMetrics;
import com.shrivenquant.cluster.telemetry.TelemetrySettings;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.Side;
import com.shrivenquant.engine.core.TimeInForce;
import com.shrivenquant.engine.instrument.InstrumentEntity.Event;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderAccepted;
import com.shrivenquant.testkit.infra.FreePorts;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import kamon.Kamon;
import kamon.metric.Gauge;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@code bin/shrivenquant bench telemetry}: what the metrics and spans add to one order, with Kamon
 * started as a node starts it (Prometheus reporter, JVM and host metrics, adaptive sampler). In
 * this package for the entity's package-private recording calls. Compare with an order's ack
 * latency (docs/BENCHMARKS.md) as a ratio.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx512m", "-Dlogback.configurationFile=logback-text.xml"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class OrderTelemetryBenchmark {
  private List<Event> decisions;
  private Gauge openOrders;
  private String sampledParent;

  @Setup
  public void start() {
    Config config =
        ConfigFactory.parseString(
                "kamon.prometheus.embedded-server.hostname = 127.0.0.1\n"
                    + "kamon.prometheus.embedded-server.port = "
                    + FreePorts.freePort())
            .withFallback(ConfigFactory.load());
    NodeTelemetry.start(config, TelemetrySettings.fromConfig(config, "region-1"));
    OrderRequest r = OrderRequest.limit("acct-1", "c-1", Side.BUY, 10_000, 1, TimeInForce.GTC);
    decisions = List.of(new OrderAccepted(r, 1, 10_000, List.of(), 0));
    openOrders = InstrumentMetrics.openOrders("BENCH");
    sampledParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  }

  @TearDown
  public void stop() {
    Kamon.stop();
  }

  /** The HTTP side of an order whose trace is not sampled (nearly every order). */
  @Benchmark
  public void orderEntry(Blackhole bh) {
    OrderMetrics.Ack ack = OrderMetrics.start(Optional.empty());
    bh.consume(ack.traceParent());
    ack.answered(200, true, "ACME");
  }

  /** The entity side of one journaled decision: counters and the open-orders gauge. */
  @Benchmark
  public void entityDecision() {
    InstrumentMetrics.journaled(decisions);
    openOrders.update(42);
  }

  /** A sampled order (the client asked for it, or the adaptive sampler picked it): three spans. */
  @Benchmark
  public void sampledOrderSpans(Blackhole bh) {
    OrderMetrics.Ack ack = OrderMetrics.start(Optional.of(sampledParent));
    String parent = ack.traceParent();
    kamon.trace.Span entity = OrderTraces.start("instrument.place", parent, "ACME");
    kamon.trace.Span write =
        Kamon.internalSpanBuilder("instrument.journal-write", OrderTraces.COMPONENT)
            .asChildOf(entity)
            .tag("orders", 1)
            .doNotTrackMetrics()
            .start();
    write.finish();
    entity.finish();
    ack.answered(200, true, "ACME");
    bh.consume(parent);
  }
}
