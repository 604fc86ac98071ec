package com.shrivenquant.bench.replication;

import static com.shrivenquant.bench.load.OrderLoadBenchmark.log;
import static com.shrivenquant.bench.load.OrderLoadBenchmark.ms;

import com.shrivenquant.local.dev.OrderLoad;
import com.shrivenquant.local.dev.OrderLoad.Spread;
import com.shrivenquant.local.drill.DrillEnvironment;
import java.nio.file.Files;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * {@code bin/shrivenquant bench sync}: the order-ack latency cost of {@code sync} durability
 * against {@code async}, at the same offered rate, in one run. Each mode gets the same fresh
 * two-region environment (region 1 active, region 2 standby applying from Kafka, witness) and the
 * same open-loop load straight at region 1's nodes; the modes alternate in rounds, so drift of the
 * shared machine shows up in both.
 */
public final class SyncCostBenchmark {
  record Measured(String mode, int round, OrderLoad.Interval result) {}

  public static void main(String[] args) throws Exception {
    double rate = 500;
    int seconds = 30;
    int warmup = 20;
    int rounds = 2;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rate" -> rate = Double.parseDouble(args[++i]);
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown option " + args[i] + " (--rate R --seconds S --warmup S --rounds N)");
      }
    }
    List<Measured> all = new ArrayList<>();
    for (int round = 1; round <= rounds; round++) {
      for (String mode : List.of("async", "sync")) {
        log("round " + round + ", " + mode + ": starting both regions ...");
        try (DrillEnvironment env =
            DrillEnvironment.start(
                Files.createTempDirectory("sync-cost-"),
                com.shrivenquant.cluster.NodeJvm.options("512m"),
                mode,
                20)) {
          List<String> symbols = new ArrayList<>();
          for (int n = 0; n < 20; n++) symbols.add(String.format("SYM%03d", n));
          OrderLoad warm =
              new OrderLoad(
                      new OrderLoad.Options(
                          env.region1OrderApi(),
                          symbols,
                          10_000,
                          rate,
                          Spread.ZIPF,
                          50,
                          20_000,
                          16,
                          Math.min(10, warmup),
                          System.nanoTime()))
                  .start();
          Thread.sleep(warmup * 1000L);
          warm.close();
          OrderLoad load =
              new OrderLoad(
                      new OrderLoad.Options(
                          env.region1OrderApi(),
                          symbols,
                          10_000,
                          rate,
                          Spread.ZIPF,
                          50,
                          20_000,
                          16,
                          0,
                          System.nanoTime()))
                  .start();
          Thread.sleep(1000);
          load.sample();
          Thread.sleep(seconds * 1000L);
          OrderLoad.Interval r = load.sample();
          load.close();
          all.add(new Measured(mode, round, r));
          log(
              String.format(
                  "  %s: acked %d errors %d dropped %d p50 %.2f p99 %.2f max %.2f ms",
                  mode,
                  r.acked(),
                  r.errors(),
                  r.dropped(),
                  ms(r.latency(), 50),
                  ms(r.latency(), 99),
                  r.latency().getMaxValue() / 1000.0));
        }
      }
    }
    Histogram async = new Histogram(3);
    Histogram sync = new Histogram(3);
    StringBuilder md = new StringBuilder();
    md.append("Run ")
        .append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME))
        .append(
            String.format(
                ", %.0f orders/s offered (zipf over 20 instruments) for %d s per mode and round,"
                    + " %d cores%n%n",
                rate, seconds, Runtime.getRuntime().availableProcessors()));
    md.append(
        "| round | mode | acked | errors | dropped | p50 ms | p99 ms | p99.9 ms | max ms |\n|---|---|---|---|---|---|---|---|---|\n");
    for (Measured m : all) {
      Histogram h = m.result().latency();
      (m.mode().equals("sync") ? sync : async).add(h);
      md.append(
          String.format(
              "| %d | %s | %d | %d | %d | %.2f | %.2f | %.2f | %.2f |%n",
              m.round(),
              m.mode(),
              m.result().acked(),
              m.result().errors(),
              m.result().dropped(),
              ms(h, 50),
              ms(h, 99),
              ms(h, 99.9),
              h.getMaxValue() / 1000.0));
    }
    md.append(
        String.format(
            "%nAll rounds: async p50 %.2f / p99 %.2f ms, sync p50 %.2f / p99 %.2f ms;"
                + " sync/async ratio p50 %.2f, p99 %.2f%n",
            ms(async, 50),
            ms(async, 99),
            ms(sync, 50),
            ms(sync, 99),
            ms(sync, 50) / ms(async, 50),
            ms(sync, 99) / ms(async, 99)));
    System.out.println();
    System.out.println(md);
    System.exit(0);
  }

  private SyncCostBenchmark() {}
}
