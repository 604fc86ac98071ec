package com.shrivenquant.local.drill;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * {@code bin/shrivenquant drill}: the project's main job. Starts both regions and everything they
 * need on this machine, runs unplanned failover drills under order load (each followed by region
 * 1's return as standby and a planned switchover back), and prints a report.
 *
 * <p>Options: {@code --drills N} (default 1), {@code --mode sync|async} (default sync, what
 * production runs: no acknowledged order may be lost), {@code --fault kill|partition}, {@code
 * --rate ORDERS_PER_S} (default 100), {@code --witness etcd|jdbc} (default etcd: three members),
 * {@code --routing dns|proxy} (default dns: clients resolve the order API's name at a real DNS
 * server), {@code --json}, {@code --work-dir DIR}.
 */
public final class DrillMain {
  private static final long START = System.nanoTime();

  record Options(
      int drills,
      String mode,
      DrillRun.Fault fault,
      double rate,
      boolean json,
      Path workDir,
      int warmup,
      String witness,
      String routing) {
    static Options parse(String[] args) throws Exception {
      int drills = 1;
      String mode = "sync";
      DrillRun.Fault fault = DrillRun.Fault.KILL;
      double rate = 100;
      boolean json = false;
      Path workDir = null;
      int warmup = 20;
      String witness = "etcd";
      String routing = "dns";
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--drills" -> drills = Integer.parseInt(args[++i]);
          case "--mode" -> mode = args[++i];
          case "--fault" -> fault = DrillRun.Fault.valueOf(args[++i].toUpperCase());
          case "--rate" -> rate = Double.parseDouble(args[++i]);
          case "--json" -> json = true;
          case "--work-dir" -> workDir = Path.of(args[++i]);
          case "--warmup" -> warmup = Integer.parseInt(args[++i]);
          case "--witness" -> witness = args[++i];
          case "--routing" -> routing = args[++i];
          default ->
              throw new IllegalArgumentException(
                  "unknown option "
                      + args[i]
                      + " (--drills N, --mode sync|async, --fault kill|partition, --rate R, --warmup S,"
                      + " --witness etcd|jdbc, --routing dns|proxy, --json, --work-dir DIR)");
        }
      }
      if (!mode.equals("async") && !mode.equals("sync"))
        throw new IllegalArgumentException("--mode async|sync");
      if (!witness.equals("etcd") && !witness.equals("jdbc"))
        throw new IllegalArgumentException("--witness etcd|jdbc");
      if (!routing.equals("dns") && !routing.equals("proxy"))
        throw new IllegalArgumentException("--routing dns|proxy");
      if (drills < 1) throw new IllegalArgumentException("--drills must be >= 1");
      if (workDir == null) workDir = Files.createTempDirectory("shrivenquant-drill-");
      return new Options(drills, mode, fault, rate, json, workDir, warmup, witness, routing);
    }
  }

  private DrillMain() {}

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    List<DrillRun.Result> results;
    try {
      results = run(o, DrillMain::say);
    } catch (Exception | Error e) {
      e.printStackTrace();
      System.exit(1);
      return;
    }
    System.out.println();
    System.out.println(table(results, o));
    if (o.json()) {
      System.out.println(
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsString(Map.of("drills", results, "summary", summary(results, o))));
    }
    System.exit(allHeld(results, o.mode()) ? 0 : 1);
  }

  static List<DrillRun.Result> run(Options o, java.util.function.Consumer<String> progress)
      throws Exception {
    progress.accept(
        "starting 2 PostgreSQL servers (region-1, region-2), the "
            + (o.witness().equals("etcd") ? "witness (3 etcd members)" : "witness (PostgreSQL)")
            + ", a Kafka broker, "
            + (o.routing().equals("dns") ? "a DNS server (named)" : "the routing proxy")
            + " and 2 nodes per region (logs in "
            + o.workDir().resolve("logs")
            + ") ...");
    List<DrillRun.Result> results = new ArrayList<>();
    try (DrillEnvironment env =
        DrillEnvironment.start(
            o.workDir(),
            // C1 only: on 2 shared cores, C2's compile bursts in six JVMs cost more than they win
            // within a drill's minutes (measured: first promotions 1.6 s with C2, 0.3 s without).
            List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
            o.mode(),
            5,
            DrillEnvironment.Options.defaults()
                .withWitness(o.witness())
                .withRouting(o.routing()))) {
      progress.accept(
          "region-1 ACTIVE, region-2 STANDBY; clients use "
              + (o.routing().equals("dns")
                  ? "DNS name " + DrillRouting.NAME + " (ttl " + DrillRouting.TTL + ")"
                  : "the routing proxy")
              + " (mode "
              + o.mode()
              + ")");
      List<String> instruments = List.of("ACME", "SYM000", "SYM001", "SYM002", "SYM003", "SYM004");
      DrillRun drill = new DrillRun(env, progress, instruments, o.rate(), o.mode());
      if (o.warmup() > 0) {
        // Freshly started JVMs are not what a region that has run for hours looks like.
        progress.accept("warm-up: " + o.warmup() + " s of order flow before the first drill");
        try (DrillClient warm =
            new DrillClient(env.clientEndpoint(), instruments, 4, o.rate(), "warmup").start()) {
          Thread.sleep(o.warmup() * 1000L);
          warm.stopAndAwait(java.time.Duration.ofSeconds(20));
        }
      }
      for (int n = 1; n <= o.drills(); n++) {
        results.add(drill.run(n, o.fault()));
      }
    }
    return results;
  }

  static boolean allHeld(List<DrillRun.Result> results, String mode) {
    return results.stream()
        .allMatch(
            r ->
                r.rtoMs() >= 0
                    && !r.falseFailover()
                    && r.executedTwice() == 0
                    && r.switchoverTwice() == 0
                    && r.switchoverLost() == 0
                    && r.journalsEqual()
                    && r.regionsNeverOverlapped()
                    && (!mode.equals("sync") || r.lost() == 0));
  }

  static String table(List<DrillRun.Result> results, Options o) {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            "%-5s %-9s %-5s %9s %9s %7s %5s %-11s %6s %5s %5s %7s %9s %5s %5s %9s %6s %6s %8s%n",
            "drill",
            "fault",
            "mode",
            "detect ms",
            "promo ms",
            "RTO ms",
            "RPO",
            "verdict",
            "acked",
            "lost",
            "twice",
            "webhook",
            "failback",
            "tail",
            "equal",
            "switch ms",
            "s.lost",
            "s.twice",
            "pause ok"));
    for (DrillRun.Result r : results) {
      b.append(
          String.format(
              "%-5d %-9s %-5s %9d %9d %7d %5d %-11s %6d %5d %5d %7s %9d %5d %5s %9d %6d %6d %8s%n",
              r.drill(),
              r.fault(),
              r.mode(),
              r.detectionMs(),
              r.promotionMs(),
              r.rtoMs(),
              r.rpoEvents(),
              r.verdict(),
              r.acknowledged(),
              r.lost(),
              r.executedTwice(),
              r.webhookReceived() ? "yes" : "NO",
              r.failbackMs(),
              r.tailSetAside(),
              r.journalsEqual() ? "yes" : "NO",
              r.switchoverUnavailableMs(),
              r.switchoverLost(),
              r.switchoverTwice(),
              r.falseFailover() ? "FALSE" : "yes"));
    }
    Map<String, Object> s = summary(results, o);
    b.append(
        String.format(
            "%nwitness %s, routing %s, mode %s | RTO ms p50 %s p99 %s max %s | detection p50 %s | promotion p50 %s | switchover"
                + " unavailability p50 %s max %s | lost %s | executed twice %s | regions overlapping: %s"
                + " | false failovers: %s%n",
            s.get("witness"),
            s.get("routing"),
            s.get("mode"),
            s.get("rtoP50"),
            s.get("rtoP99"),
            s.get("rtoMax"),
            s.get("detectionP50"),
            s.get("promotionP50"),
            s.get("switchoverP50"),
            s.get("switchoverMax"),
            s.get("lost"),
            s.get("executedTwice"),
            s.get("overlaps"),
            s.get("falseFailovers")));
    return b.toString();
  }

  static Map<String, Object> summary(List<DrillRun.Result> results, Options o) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("drills", results.size());
    s.put("witness", o.witness());
    s.put("routing", o.routing());
    s.put("mode", o.mode());
    s.put("rtoP50", pct(results, DrillRun.Result::rtoMs, 50));
    s.put("rtoP99", pct(results, DrillRun.Result::rtoMs, 99));
    s.put("rtoMax", pct(results, DrillRun.Result::rtoMs, 100));
    s.put("detectionP50", pct(results, DrillRun.Result::detectionMs, 50));
    s.put("promotionP50", pct(results, DrillRun.Result::promotionMs, 50));
    s.put("switchoverP50", pct(results, DrillRun.Result::switchoverUnavailableMs, 50));
    s.put("switchoverMax", pct(results, DrillRun.Result::switchoverUnavailableMs, 100));
    s.put("lost", results.stream().mapToInt(DrillRun.Result::lost).sum());
    s.put(
        "executedTwice",
        results.stream().mapToInt(r -> r.executedTwice() + r.switchoverTwice()).sum());
    s.put("overlaps", results.stream().filter(r -> !r.regionsNeverOverlapped()).count());
    s.put("falseFailovers", results.stream().filter(DrillRun.Result::falseFailover).count());
    return s;
  }

  // Nearest-rank percentile.
  static long pct(List<DrillRun.Result> results, ToLongFunction<DrillRun.Result> f, double p) {
    long[] v = results.stream().mapToLong(f).sorted().toArray();
    if (v.length == 0) return -1;
    int rank = (int) Math.ceil(p / 100.0 * v.length);
    return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
  }

  static void say(String line) {
    System.out.printf("drill | [%6.1fs] %s%n", (System.nanoTime() - START) / 1e9, line);
  }
}
