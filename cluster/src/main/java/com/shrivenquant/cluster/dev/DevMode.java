package com.shrivenquant.cluster.dev;

import com.shrivenquant.cluster.NodeMain;
import com.shrivenquant.engine.EngineSettings;
import com.shrivenquant.engine.persistence.JournalSchema;
import com.shrivenquant.testkit.infra.ChildJvm;
import com.shrivenquant.testkit.infra.LocalPostgres;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import org.HdrHistogram.Histogram;

/**
 * {@code bin/shrivenquant dev}: a local region on one machine. An embedded PostgreSQL, N nodes as
 * real child processes forming one cluster, and a mock order flow whose throughput and ack
 * latency are printed every second. Ctrl-C (or --seconds) stops everything cleanly.
 */
public final class DevMode {

  record Options(
      int nodes, double rate, int seconds, OrderLoad.Spread spread, Path workDir, String nodeHeap) {
    static Options parse(String[] args) {
      int nodes = 3;
      double rate = 200;
      int seconds = 0;
      OrderLoad.Spread spread = OrderLoad.Spread.ZIPF;
      Path workDir = Path.of(".dev");
      String heap = "384m";
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        String v = i + 1 < args.length ? args[i + 1] : null;
        switch (a) {
          case "--nodes" -> { nodes = Integer.parseInt(v); i++; }
          case "--rate" -> { rate = Double.parseDouble(v); i++; }
          case "--seconds" -> { seconds = Integer.parseInt(v); i++; }
          case "--spread" -> { spread = OrderLoad.Spread.valueOf(v.toUpperCase(Locale.ROOT)); i++; }
          case "--work-dir" -> { workDir = Path.of(v); i++; }
          case "--node-heap" -> { heap = v; i++; }
          default -> throw new IllegalArgumentException(
              "unknown option " + a + " (known: --nodes N --rate ORDERS_PER_S --seconds S"
                  + " --spread uniform|zipf|hot --work-dir DIR --node-heap SIZE)");
        }
      }
      if (nodes < 1 || rate <= 0) throw new IllegalArgumentException("--nodes >= 1, --rate > 0");
      return new Options(nodes, rate, seconds, spread, workDir, heap);
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
    new DevMode().run(o);
  }

  private final List<ChildJvm> nodes = new ArrayList<>();
  private LocalPostgres postgres;
  private OrderLoad load;
  private final CountDownLatch stopped = new CountDownLatch(1);

  void run(Options o) throws Exception {
    Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "dev-shutdown"));
    say("starting embedded PostgreSQL ...");
    postgres =
        LocalPostgres.builder()
            .name("dev-region-1")
            .durable(true)
            .logDirectory(o.workDir().resolve("logs"))
            .start();
    LocalPostgres.Database db = postgres.createDatabase("shrivenquant");
    JournalSchema.migrate(db.dataSource());
    say("PostgreSQL " + db.jdbcUrl());

    LocalClusterLayout layout =
        LocalClusterLayout.allocate(
            o.nodes(), new LocalClusterLayout.Journal(db.jdbcUrl(), db.user(), db.password()));
    for (int i = 0; i < o.nodes(); i++) {
      nodes.add(
          ChildJvm.builder("node-" + (i + 1), NodeMain.class)
              .jvmOptions("-Xmx" + o.nodeHeap(), "-XX:+UseParallelGC")
              .systemProperties(layout.systemProperties(i))
              .logDirectory(o.workDir().resolve("logs"))
              .start());
    }
    say("starting " + o.nodes() + " nodes (logs in " + o.workDir().resolve("logs") + ") ...");
    layout.awaitReady(Duration.ofSeconds(120));
    for (int i = 0; i < o.nodes(); i++) {
      say(String.format("node-%d  orders %s  management %s/health/ready  pid %d",
          i + 1, layout.httpBase(i), layout.managementBase(i), nodes.get(i).pid()));
    }

    EngineSettings engine = EngineSettings.fromConfig(ConfigFactory.load());
    List<String> symbols = new ArrayList<>(engine.instruments().keySet());
    symbols.removeIf(s -> engine.instruments().get(s).referencePrice() != 10000);
    load =
        new OrderLoad(
                new OrderLoad.Options(
                    layout.httpBases(), symbols, 10000, o.rate(), o.spread(), 50, 20_000,
                    System.nanoTime()))
            .start();
    say(String.format("mock order flow: %.0f orders/s over %d instruments (%s); Ctrl-C stops",
        o.rate(), symbols.size(), o.spread().name().toLowerCase(Locale.ROOT)));

    long start = System.nanoTime();
    for (int second = 1; o.seconds() == 0 || second <= o.seconds(); second++) {
      long next = start + second * 1_000_000_000L;
      long wait = next - System.nanoTime();
      if (wait > 0 && stopped.await(wait, java.util.concurrent.TimeUnit.NANOSECONDS)) return;
      say(line(second, load.sample()));
    }
    System.exit(0); // runs the shutdown hook, which prints the summary and stops everything
  }

  static String line(long second, OrderLoad.Interval i) {
    Histogram h = i.latency();
    return String.format(
        "[%4ds] due %5d/s  acked %5d/s  rejected %4d  errors %d  dropped %d  |  ack ms p50 %6.2f"
            + "  p99 %7.2f  max %7.2f",
        second, i.due(), i.acked(), i.rejected(), i.errors(), i.dropped(),
        ms(h, 50), ms(h, 99), h.getTotalCount() == 0 ? 0.0 : h.getMaxValue() / 1000.0);
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
      say(String.format(
          "total: due %d, acked %d (rejected by risk %d), errors %d, dropped %d; ack ms p50 %.2f"
              + " p99 %.2f p99.9 %.2f max %.2f",
          t.due(), t.acked(), t.rejected(), t.errors(), t.dropped(), ms(h, 50), ms(h, 99),
          ms(h, 99.9), h.getTotalCount() == 0 ? 0.0 : h.getMaxValue() / 1000.0));
      load = null;
    }
    if (!nodes.isEmpty()) {
      say("stopping nodes ...");
      nodes.parallelStream().forEach(n -> n.stop(Duration.ofSeconds(15)));
      nodes.clear();
    }
    if (postgres != null) {
      say("stopping PostgreSQL ...");
      postgres.close();
      postgres = null;
    }
    say("stopped");
  }

  private static void say(String s) {
    System.out.println("dev | " + s);
    System.out.flush();
  }
}
