package com.shrivenquant.bench.load;

import com.shrivenquant.cluster.NodeJvm;
import com.shrivenquant.engine.EngineSettings;
import com.shrivenquant.local.dev.LocalRegion;
import com.shrivenquant.local.dev.OrderLoad;
import com.shrivenquant.local.dev.OrderLoad.Spread;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * {@code bin/shrivenquant bench orders}: order-ack latency and sustained throughput of a local
 * region over HTTP on a durable PostgreSQL, and in the same run the physical limit (raw batched
 * INSERT of the same journal rows) and one hot instrument's capacity without HTTP. Prints a
 * markdown report for docs/BENCHMARKS.md.
 */
public final class OrderLoadBenchmark {
  static final double P99_TARGET_MS = 10.0;

  record Options(
      int nodes,
      int warmup,
      int duration,
      double rate,
      List<Double> scan,
      int scanSeconds,
      String heap,
      String gc,
      List<String> nodeOptions,
      boolean hot,
      boolean capacity) {
    static Options parse(String[] args) {
      int nodes = 1, warmup = 60, duration = 60, scanSeconds = 20;
      double rate = 2000;
      List<Double> scan = List.of(1000.0, 1500.0, 2000.0, 2500.0, 3000.0, 4000.0);
      String heap = "2g";
      // The node's collector flags, replaceable as a whole (two collectors on one JVM are refused).
      String gc = String.join(" ", NodeJvm.COLLECTOR);
      List<String> opts = new ArrayList<>();
      boolean hot = true, capacity = true;
      for (int i = 0; i < args.length; i++) {
        String v = i + 1 < args.length ? args[i + 1] : null;
        switch (args[i]) {
          case "--nodes" -> {
            nodes = Integer.parseInt(v);
            i++;
          }
          case "--warmup" -> {
            warmup = Integer.parseInt(v);
            i++;
          }
          case "--duration" -> {
            duration = Integer.parseInt(v);
            i++;
          }
          case "--rate" -> {
            rate = Double.parseDouble(v);
            i++;
          }
          case "--scan" -> {
            scan = Arrays.stream(v.split(",")).map(Double::valueOf).toList();
            i++;
          }
          case "--scan-seconds" -> {
            scanSeconds = Integer.parseInt(v);
            i++;
          }
          case "--node-heap" -> {
            heap = v;
            i++;
          }
          case "--node-gc" -> {
            gc = v;
            i++;
          }
          case "--node-opt" -> {
            opts.add(v);
            i++;
          }
          case "--no-hot" -> hot = false;
          case "--no-capacity" -> capacity = false;
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      return new Options(
          nodes, warmup, duration, rate, scan, scanSeconds, heap, gc, opts, hot, capacity);
    }
  }

  record Phase(
      String name,
      Spread spread,
      double rate,
      int seconds,
      OrderLoad.Interval result,
      CpuMeter.Usage cpu) {
    boolean held() {
      Histogram h = result.latency();
      return result.errors() == 0
          && result.dropped() == 0
          && h.getTotalCount() > 0
          && h.getValueAtPercentile(99) / 1000.0 < P99_TARGET_MS
          && result.acked() >= 0.99 * result.due();
    }

    String row() {
      Histogram h = result.latency();
      return String.format(
          "| %s | %s | %.0f | %d | %d | %d | %d | %.2f | %.2f | %.2f | %.2f |",
          name,
          spread.name().toLowerCase(),
          rate,
          seconds,
          result.acked(),
          result.errors(),
          result.dropped(),
          ms(h, 50),
          ms(h, 99),
          ms(h, 99.9),
          h.getMaxValue() / 1000.0);
    }
  }

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    List<String> jvm =
        new ArrayList<>(NodeJvm.options(o.heap(), List.of(o.gc().trim().split("\\s+"))));
    jvm.addAll(o.nodeOptions());
    EngineSettings engine = EngineSettings.fromConfig(ConfigFactory.load());
    List<String> symbols = new ArrayList<>(engine.instruments().keySet());
    symbols.removeIf(s -> !s.startsWith("SYM"));
    List<Phase> phases = new ArrayList<>();
    RawInsertBaseline.Result raw;
    HotInstrumentCapacity.Result capacity = null;
    double eventsPerTransaction;
    log("starting PostgreSQL and " + o.nodes() + " node(s) ...");
    try (LocalRegion region =
        LocalRegion.start("bench", o.nodes(), Path.of("bench/target/run"), jvm, Map.of())) {
      List<java.net.URI> nodes = region.layout().httpBases();
      CpuMeter cpu = new CpuMeter(region.nodes().stream().map(n -> n.pid()).toList());
      run(nodes, symbols, cpu, "warm-up", Spread.ZIPF, Math.min(o.rate(), 1500), o.warmup(), 20);
      phases.add(run(nodes, symbols, cpu, "at rate", Spread.ZIPF, o.rate(), o.duration(), 0));
      if (o.hot())
        phases.add(run(nodes, symbols, cpu, "at rate", Spread.HOT, o.rate(), o.duration(), 0));
      phases.add(highest(nodes, symbols, cpu, Spread.ZIPF, o));
      if (o.hot()) phases.add(highest(nodes, symbols, cpu, Spread.HOT, o));
      region.stopNodes();
      eventsPerTransaction = eventsPerTransaction(region);
      log("raw batched INSERT of the same rows, 8 connections, 10 rows per transaction ...");
      raw = RawInsertBaseline.run(region.database().dataSource(), 8, 10, 20);
      if (o.capacity()) {
        log("one hot instrument without HTTP (in-process, window 5000) ...");
        capacity = HotInstrumentCapacity.run(region.database(), 5000, 10, 20);
      }
    }
    double sustained =
        phases.stream()
            .filter(p -> p.name().startsWith("highest") && p.spread() == Spread.ZIPF)
            .filter(Phase::held)
            .mapToDouble(Phase::rate)
            .max()
            .orElse(0);

    StringBuilder md = new StringBuilder();
    md.append("Run ")
        .append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME))
        .append(", ")
        .append(o.nodes())
        .append(" node(s), node JVM ")
        .append(String.join(" ", jvm))
        .append(", ")
        .append(Runtime.getRuntime().availableProcessors())
        .append(" cores\n\n");
    md.append(
        "| phase | spread | orders/s offered | s | acked | errors | dropped | p50 ms | p99 ms | p99.9 ms | max ms |\n");
    md.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Phase p : phases) md.append(p.row()).append('\n');
    md.append(
        "\nCPU per acked order by process (microseconds; cores busy: the three together)\n\n");
    md.append(CpuMeter.HEADER);
    for (Phase p : phases)
      md.append(
              p.cpu()
                  .row(
                      p.name()
                          + ", "
                          + p.spread().name().toLowerCase()
                          + " "
                          + (long) p.rate()
                          + "/s",
                      p.result().acked()))
          .append('\n');
    md.append(
        String.format(
            "%nMean events per journal transaction during the run: %.1f%n", eventsPerTransaction));
    md.append(
        String.format(
            "Raw batched INSERT of the same rows (8 connections, 10 rows/transaction): %.0f rows/s%n",
            raw.rowsPerSecond()));
    md.append(
        String.format(
            "Highest skewed rate held with p99 < %.0f ms: %.0f orders/s = %.0f %% of the raw INSERT rate%n",
            P99_TARGET_MS, sustained, 100 * sustained / raw.rowsPerSecond()));
    if (capacity != null) {
      md.append(
          String.format(
              "One hot instrument without HTTP (group commit, 5000 in flight): %.0f orders/s"
                  + " (%d not placed)%n",
              capacity.ordersPerSecond(), capacity.placedFailures()));
    }
    System.out.println();
    System.out.println(md);
  }

  /** Steps up through the scan rates; the best rate that held is then run for the full duration. */
  static Phase highest(
      List<java.net.URI> nodes, List<String> symbols, CpuMeter cpu, Spread spread, Options o)
      throws InterruptedException {
    double best = 0;
    for (double rate : o.scan()) {
      Phase step = run(nodes, symbols, cpu, "scan", spread, rate, o.scanSeconds(), 0);
      if (!step.held()) break;
      best = rate;
    }
    if (best == 0) best = o.scan().get(0);
    Phase confirm = run(nodes, symbols, cpu, "highest held", spread, best, o.duration(), 0);
    return confirm;
  }

  static Phase run(
      List<java.net.URI> nodes,
      List<String> symbols,
      CpuMeter cpu,
      String name,
      Spread spread,
      double rate,
      int seconds,
      int ramp)
      throws InterruptedException {
    log(
        String.format(
            "%s: %s %.0f orders/s for %d s ...", name, spread.name().toLowerCase(), rate, seconds));
    OrderLoad load =
        new OrderLoad(
                new OrderLoad.Options(
                    nodes, symbols, 10_000, rate, spread, 50, 50_000, 64, ramp, System.nanoTime()))
            .start();
    Thread.sleep((ramp + 1) * 1000L);
    load.sample(); // measure after the ramp
    CpuMeter.Sample cpuStart = cpu.sample();
    for (int s = 1; s <= seconds; s++) {
      Thread.sleep(1000);
      if (s % 10 == 0) log(String.format("  %3d s: %s", s, summary(load.totals())));
    }
    OrderLoad.Interval result = load.sample();
    CpuMeter.Usage used = CpuMeter.between(cpuStart, cpu.sample());
    load.close();
    Phase p = new Phase(name, spread, rate, seconds, result, used);
    log(
        "  -> "
            + summary(result)
            + (p.held() ? "  (held)" : "  (not held)")
            + "; CPU per order: "
            + used.perOrder(result.acked()));
    return p;
  }

  static String summary(OrderLoad.Interval i) {
    Histogram h = i.latency();
    return String.format(
        "acked %d errors %d dropped %d p50 %.2f p99 %.2f max %.2f ms",
        i.acked(),
        i.errors(),
        i.dropped(),
        ms(h, 50),
        ms(h, 99),
        h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1000.0);
  }

  static double eventsPerTransaction(LocalRegion region) throws Exception {
    try (Connection c = region.database().dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*)::float / greatest(count(DISTINCT xmin::text), 1) FROM event_journal")) {
      rs.next();
      return rs.getDouble(1);
    }
  }

  public static double ms(Histogram h, double p) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(p) / 1000.0;
  }

  public static void log(String s) {
    System.out.println("bench | " + s);
    System.out.flush();
  }

  private OrderLoadBenchmark() {}
}
