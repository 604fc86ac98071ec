package com.shrivenquant.local.dev;

import com.shrivenquant.engine.EngineSettings;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.HdrHistogram.Histogram;

/**
 * {@code bin/shrivenquant dev}: a local region on one machine. An embedded PostgreSQL, N nodes as
 * real child processes forming one cluster, and a mock order flow whose throughput and ack latency
 * are printed every second. Ctrl-C (or --seconds) stops everything cleanly.
 */
public final class DevMode {

  record Options(
      int nodes,
      double rate,
      int seconds,
      OrderLoad.Spread spread,
      Path workDir,
      String nodeHeap,
      List<String> nodeOptions) {
    static Options parse(String[] args) {
      int nodes = 3;
      double rate = 200;
      int seconds = 0;
      OrderLoad.Spread spread = OrderLoad.Spread.ZIPF;
      Path workDir = Path.of(".dev");
      String heap = "512m";
      List<String> nodeOptions = new ArrayList<>();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        String v = i + 1 < args.length ? args[i + 1] : null;
        switch (a) {
          case "--nodes" -> {
            nodes = Integer.parseInt(v);
            i++;
          }
          case "--rate" -> {
            rate = Double.parseDouble(v);
            i++;
          }
          case "--seconds" -> {
            seconds = Integer.parseInt(v);
            i++;
          }
          case "--spread" -> {
            spread = OrderLoad.Spread.valueOf(v.toUpperCase(Locale.ROOT));
            i++;
          }
          case "--work-dir" -> {
            workDir = Path.of(v);
            i++;
          }
          case "--node-heap" -> {
            heap = v;
            i++;
          }
          case "--node-opt" -> {
            nodeOptions.add(v);
            i++;
          }
          default ->
              throw new IllegalArgumentException(
                  "unknown option "
                      + a
                      + " (known: --nodes N --rate ORDERS_PER_S --seconds S"
                      + " --spread uniform|zipf|hot --work-dir DIR --node-heap SIZE --node-opt JVM_OPTION)");
        }
      }
      if (nodes < 1 || rate <= 0) throw new IllegalArgumentException("--nodes >= 1, --rate > 0");
      return new Options(nodes, rate, seconds, spread, workDir, heap, nodeOptions);
    }
  }

  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = Options.parse(args);
    } catch (RuntimeException e) {
      System.err.println("dev: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      new DevMode().run(o);
    } catch (Exception | Error e) {
      e.printStackTrace();
      System.exit(1); // the shutdown hook stops whatever did start
    }
  }

  private LocalRegion region;
  private OrderLoad load;
  private final CountDownLatch stopped = new CountDownLatch(1);

  void run(Options o) throws Exception {
    Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "dev-shutdown"));
    say(
        "starting embedded PostgreSQL and "
            + o.nodes()
            + " nodes (logs in "
            + o.workDir().resolve("logs")
            + ") ...");
    region = LocalRegion.start("dev", o.nodes(), o.workDir(), nodeJvmOptions(o), Map.of());
    LocalClusterLayout layout = region.layout();
    say("PostgreSQL " + region.database().jdbcUrl());
    for (int i = 0; i < o.nodes(); i++) {
      say(
          String.format(
              "node-%d  orders %s  management %s/health/ready  pid %d",
              i + 1, layout.httpBase(i), layout.managementBase(i), region.nodes().get(i).pid()));
    }

    EngineSettings engine = EngineSettings.fromConfig(ConfigFactory.load());
    List<String> symbols = new ArrayList<>(engine.instruments().keySet());
    symbols.removeIf(s -> engine.instruments().get(s).referencePrice() != 10000);
    load =
        new OrderLoad(
                new OrderLoad.Options(
                    layout.httpBases(),
                    symbols,
                    10000,
                    o.rate(),
                    o.spread(),
                    50,
                    20_000,
                    32,
                    20,
                    System.nanoTime()))
            .start();
    say(
        String.format(
            "mock order flow: ramping to %.0f orders/s over 20 s, %d instruments (%s); Ctrl-C stops",
            o.rate(), symbols.size(), o.spread().name().toLowerCase(Locale.ROOT)));

    long start = System.nanoTime();
    for (int second = 1; o.seconds() == 0 || second <= o.seconds(); second++) {
      long next = start + second * 1_000_000_000L;
      long wait = next - System.nanoTime();
      if (wait > 0 && stopped.await(wait, java.util.concurrent.TimeUnit.NANOSECONDS)) return;
      say(line(second, load.sample()));
    }
    // A timed run that got no order acknowledged failed (CI's dev step relies on this).
    boolean acked = load.totals().acked() > 0;
    if (!acked) say("FAILED: no order was acknowledged");
    System.exit(
        acked ? 0 : 1); // runs the shutdown hook, which prints the summary and stops everything
  }

  static List<String> nodeJvmOptions(Options o) {
    List<String> options = new ArrayList<>(com.shrivenquant.cluster.NodeJvm.options(o.nodeHeap()));
    options.addAll(o.nodeOptions());
    return options;
  }

  static String line(long second, OrderLoad.Interval i) {
    Histogram h = i.latency();
    return String.format(
        "[%4ds] due %5d/s  acked %5d/s  rejected %4d  errors %d  dropped %d  |  ack ms p50 %6.2f"
            + "  p99 %7.2f  max %7.2f",
        second,
        i.due(),
        i.acked(),
        i.rejected(),
        i.errors(),
        i.dropped(),
        ms(h, 50),
        ms(h, 99),
        h.getTotalCount() == 0 ? 0.0 : h.getMaxValue() / 1000.0);
  }

  static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0.0 : h.getValueAtPercentile(percentile) / 1000.0;
  }

  private synchronized void shutdown() {
    stopped.countDown();
    if (load != null) {
      load.close();
      OrderLoad.Interval t = load.totals();
      Histogram h = t.latency();
      say(
          String.format(
              "total: due %d, acked %d (rejected by risk %d), errors %d, dropped %d; ack ms p50 %.2f"
                  + " p99 %.2f p99.9 %.2f max %.2f",
              t.due(),
              t.acked(),
              t.rejected(),
              t.errors(),
              t.dropped(),
              ms(h, 50),
              ms(h, 99),
              ms(h, 99.9),
              h.getTotalCount() == 0 ? 0.0 : h.getMaxValue() / 1000.0));
      load = null;
    }
    if (region != null) {
      say("stopping nodes and PostgreSQL ...");
      region.close();
      region = null;
    }
    say("stopped");
  }

  private static void say(String s) {
    System.out.println("dev | " + s);
    System.out.flush();
  }
}
