package com.shrivenquant.bench.replication;

import static com.shrivenquant.bench.load.OrderLoadBenchmark.log;
import static com.shrivenquant.bench.load.OrderLoadBenchmark.ms;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.shrivenquant.bench.load.CpuMeter;
import com.shrivenquant.cluster.NodeJvm;
import com.shrivenquant.local.dev.OrderLoad;
import com.shrivenquant.local.dev.OrderLoad.Spread;
import com.shrivenquant.local.drill.DrillEnvironment;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * {@code bin/shrivenquant bench sync}: the order-ack latency cost of {@code sync} durability
 * against {@code async}, at the same offered rate, in one run.
 *
 * <p>This is production's configuration: two regions with failover on (region 1 active, region 2
 * standby applying from Kafka, the witness: three etcd members), the nodes started with production's JVM flags
 * ({@link NodeJvm#options}), and region 1's link to the Kafka broker (region 2's, across the WAN)
 * through a proxy that can delay it ({@code --wan-delay-ms}, one way, each direction; region 2
 * reaches the broker directly). The release gate's order-ack figure comes from this benchmark's
 * {@code sync} mode. Each mode gets the same fresh environment and the same open-loop load straight
 * at region 1's nodes; the modes alternate in rounds (async, sync, async, ...), so drift of the
 * shared machine shows up in both.
 *
 * <p>Besides latency, the CPU each part of the environment spent per acked order in the measured
 * interval, from /proc (Linux): region 1's and region 2's nodes, the broker, each PostgreSQL server
 * (postmaster and its processes) and the load driver (this JVM, which also hosts the idle routing
 * endpoint).
 *
 * <p>Prints a progress log and markdown tables; with {@code --json}, then one JSON object on one
 * line, the last thing on stdout ({@code sed -n '/^{/,$p' | jq} reads it).
 */
public final class SyncCostBenchmark {
  private static final List<String> MODES = List.of("async", "sync");
  private static final int INSTRUMENTS = 20;
  private static final String NODE_HEAP = "512m";

  record Options(double rate, int seconds, int warmup, int rounds, int wanDelayMs, boolean json) {}

  /** CPU seconds by part of the environment. */
  record Cpu(
      double region1Nodes,
      double region2Nodes,
      double kafka,
      double region1Postgres,
      double region2Postgres,
      double witness,
      double loadDriver) {
    static final Cpu ZERO = new Cpu(0, 0, 0, 0, 0, 0, 0);

    static Cpu sample(DrillEnvironment.Pids pids) {
      return new Cpu(
          jvms(pids.region1Nodes()),
          jvms(pids.region2Nodes()),
          CpuMeter.processSeconds(pids.kafka(), false),
          CpuMeter.processTreeSeconds(pids.region1Postgres()),
          CpuMeter.processTreeSeconds(pids.region2Postgres()),
          pids.witness().stream().mapToDouble(CpuMeter::processTreeSeconds).sum(),
          CpuMeter.processSeconds(ProcessHandle.current().pid(), false));
    }

    private static double jvms(List<Long> pids) {
      return pids.stream().mapToDouble(pid -> CpuMeter.processSeconds(pid, false)).sum();
    }

    Cpu minus(Cpu o) {
      return new Cpu(
          region1Nodes - o.region1Nodes,
          region2Nodes - o.region2Nodes,
          kafka - o.kafka,
          region1Postgres - o.region1Postgres,
          region2Postgres - o.region2Postgres,
          witness - o.witness,
          loadDriver - o.loadDriver);
    }

    Cpu plus(Cpu o) {
      return new Cpu(
          region1Nodes + o.region1Nodes,
          region2Nodes + o.region2Nodes,
          kafka + o.kafka,
          region1Postgres + o.region1Postgres,
          region2Postgres + o.region2Postgres,
          witness + o.witness,
          loadDriver + o.loadDriver);
    }

    double total() {
      return region1Nodes
          + region2Nodes
          + kafka
          + region1Postgres
          + region2Postgres
          + witness
          + loadDriver;
    }

    /** Microseconds per acked order by part, in the order of the markdown columns, then total. */
    Map<String, Double> perOrderUs(long acked) {
      double k = acked == 0 ? 0 : 1e6 / acked;
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("region1Nodes", region1Nodes * k);
      m.put("region2Nodes", region2Nodes * k);
      m.put("kafka", kafka * k);
      m.put("region1Postgres", region1Postgres * k);
      m.put("region2Postgres", region2Postgres * k);
      m.put("witness", witness * k);
      m.put("loadDriver", loadDriver * k);
      m.put("total", total() * k);
      return m;
    }
  }

  /**
   * One mode in one round. {@code wanBytes}: bytes the region-1-to-Kafka link carried in the
   * measured interval, both directions (region 1's publishing goes through it).
   */
  record Measured(
      String mode, int round, OrderLoad.Interval result, Cpu cpu, double seconds, long wanBytes) {}

  public static void main(String[] args) throws Exception {
    Options o = parse(args);
    Instant startedAt = Instant.now();
    List<Measured> all = new ArrayList<>();
    for (int round = 1; round <= o.rounds(); round++) {
      for (String mode : MODES) {
        log("round " + round + ", " + mode + ": starting both regions ...");
        all.add(measure(o, round, mode));
      }
    }
    System.out.println();
    System.out.println(markdown(o, startedAt, all));
    if (o.json()) {
      System.out.println(new ObjectMapper().writeValueAsString(json(o, startedAt, all)));
    }
    System.out.flush();
    System.exit(0);
  }

  static Options parse(String[] args) {
    double rate = 1000;
    int seconds = 30;
    int warmup = 20;
    int rounds = 2;
    int wanDelayMs = 0;
    boolean json = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rate" -> rate = Double.parseDouble(args[++i]);
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--wan-delay-ms" -> wanDelayMs = Integer.parseInt(args[++i]);
        case "--json" -> json = true;
        default ->
            throw new IllegalArgumentException(
                "unknown option "
                    + args[i]
                    + " (--rate R --seconds S --warmup S --rounds N --wan-delay-ms D --json)");
      }
    }
    if (rate <= 0 || seconds < 1 || warmup < 0 || rounds < 1 || wanDelayMs < 0) {
      throw new IllegalArgumentException(
          "need --rate > 0, --seconds >= 1, --warmup >= 0, --rounds >= 1, --wan-delay-ms >= 0");
    }
    return new Options(rate, seconds, warmup, rounds, wanDelayMs, json);
  }

  private static Measured measure(Options o, int round, String mode) throws Exception {
    DrillEnvironment.Options envOptions =
        DrillEnvironment.Options.defaults()
            .withKafkaDelayFromRegion1(Duration.ofMillis(o.wanDelayMs()));
    try (DrillEnvironment env =
        DrillEnvironment.start(
            Files.createTempDirectory("sync-cost-"),
            NodeJvm.options(NODE_HEAP),
            mode,
            INSTRUMENTS,
            envOptions)) {
      List<String> symbols = new ArrayList<>();
      for (int n = 0; n < INSTRUMENTS; n++) symbols.add(String.format("SYM%03d", n));
      if (o.warmup() > 0) {
        OrderLoad warm = load(env, symbols, o.rate(), Math.min(10, o.warmup())).start();
        Thread.sleep(o.warmup() * 1000L);
        warm.close();
      }
      DrillEnvironment.Pids pids = env.pids();
      OrderLoad load = load(env, symbols, o.rate(), 0).start();
      Thread.sleep(1000);
      load.sample();
      Cpu cpuStart = Cpu.sample(pids);
      long wanStart = env.kafkaFromRegion1().bytesForwarded();
      long start = System.nanoTime();
      Thread.sleep(o.seconds() * 1000L);
      OrderLoad.Interval r = load.sample();
      Cpu cpu = Cpu.sample(pids).minus(cpuStart);
      long wanBytes = env.kafkaFromRegion1().bytesForwarded() - wanStart;
      double seconds = (System.nanoTime() - start) / 1e9;
      load.close();
      log(
          String.format(
              "  %s: acked %d errors %d dropped %d p50 %.2f p99 %.2f max %.2f ms;"
                  + " CPU per order: region-1 nodes %.0f, region-2 nodes %.0f, Kafka %.0f us;"
                  + " region 1 <-> Kafka %d KiB",
              mode,
              r.acked(),
              r.errors(),
              r.dropped(),
              ms(r.latency(), 50),
              ms(r.latency(), 99),
              r.latency().getMaxValue() / 1000.0,
              cpu.perOrderUs(r.acked()).get("region1Nodes"),
              cpu.perOrderUs(r.acked()).get("region2Nodes"),
              cpu.perOrderUs(r.acked()).get("kafka"),
              wanBytes / 1024));
      return new Measured(mode, round, r, cpu, seconds, wanBytes);
    }
  }

  private static OrderLoad load(
      DrillEnvironment env, List<String> symbols, double rate, int rampSeconds) {
    return new OrderLoad(
        new OrderLoad.Options(
            env.region1OrderApi(),
            symbols,
            10_000,
            rate,
            Spread.ZIPF,
            50,
            20_000,
            16,
            rampSeconds,
            System.nanoTime()));
  }

  /** One mode's rounds together. */
  record ModeTotal(
      Histogram latency, long acked, long rejected, long errors, long dropped, Cpu cpu) {
    static ModeTotal of(List<Measured> all, String mode) {
      Histogram h = new Histogram(3);
      long acked = 0;
      long rejected = 0;
      long errors = 0;
      long dropped = 0;
      Cpu cpu = Cpu.ZERO;
      for (Measured m : all) {
        if (!m.mode().equals(mode)) continue;
        h.add(m.result().latency());
        acked += m.result().acked();
        rejected += m.result().rejected();
        errors += m.result().errors();
        dropped += m.result().dropped();
        cpu = cpu.plus(m.cpu());
      }
      return new ModeTotal(h, acked, rejected, errors, dropped, cpu);
    }
  }

  static String markdown(Options o, Instant startedAt, List<Measured> all) {
    StringBuilder md = new StringBuilder();
    md.append("Run ")
        .append(startedAt)
        .append(
            String.format(
                ", %.0f orders/s offered (zipf over %d instruments) for %d s per mode and round,"
                    + " one-way WAN delay region 1 -> Kafka %d ms, %d cores; two regions, failover"
                    + " on, node JVM flags %s%n%n",
                o.rate(),
                INSTRUMENTS,
                o.seconds(),
                o.wanDelayMs(),
                Runtime.getRuntime().availableProcessors(),
                String.join(" ", NodeJvm.options(NODE_HEAP))));
    md.append(
        "| round | mode | acked | errors | dropped | p50 ms | p99 ms | p99.9 ms | max ms |\n"
            + "|---|---|---|---|---|---|---|---|---|\n");
    for (Measured m : all) {
      Histogram h = m.result().latency();
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
    ModeTotal async = ModeTotal.of(all, "async");
    ModeTotal sync = ModeTotal.of(all, "sync");
    md.append(
        String.format(
            "%nAll rounds: async p50 %.2f / p99 %.2f ms, sync p50 %.2f / p99 %.2f ms;"
                + " sync - async p50 %+.2f, p99 %+.2f ms%n",
            ms(async.latency(), 50),
            ms(async.latency(), 99),
            ms(sync.latency(), 50),
            ms(sync.latency(), 99),
            ms(sync.latency(), 50) - ms(async.latency(), 50),
            ms(sync.latency(), 99) - ms(async.latency(), 99)));
    md.append(
        "\nCPU per acked order (us) by process, over each measured interval:\n\n"
            + "| round | mode | region-1 nodes | region-2 nodes | Kafka | region-1 PostgreSQL"
            + " | region-2 PostgreSQL | witness | load driver | together | cores busy |\n"
            + "|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Measured m : all) {
      md.append(cpuRow(Integer.toString(m.round()), m.mode(), m.cpu(), m.result().acked()))
          .append(String.format(" %.2f |%n", m.cpu().total() / m.seconds()));
    }
    for (String mode : MODES) {
      ModeTotal t = mode.equals("async") ? async : sync;
      double seconds =
          all.stream().filter(m -> m.mode().equals(mode)).mapToDouble(Measured::seconds).sum();
      md.append(cpuRow("all", mode, t.cpu(), t.acked()))
          .append(String.format(" %.2f |%n", seconds == 0 ? 0 : t.cpu().total() / seconds));
    }
    return md.toString();
  }

  private static String cpuRow(String round, String mode, Cpu cpu, long acked) {
    StringBuilder row =
        new StringBuilder("| ").append(round).append(" | ").append(mode).append(" |");
    cpu.perOrderUs(acked).values().forEach(us -> row.append(String.format(" %.0f |", us)));
    return row.toString();
  }

  static ObjectNode json(Options o, Instant startedAt, List<Measured> all) {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode root = mapper.createObjectNode();
    if (o.rate() == Math.rint(o.rate())) {
      root.put("rate", (long) o.rate());
    } else {
      root.put("rate", o.rate());
    }
    root.put("wanDelayMs", o.wanDelayMs());
    root.put("seconds", o.seconds());
    root.put("warmupSeconds", o.warmup());
    root.put("rounds", o.rounds());
    root.put("cores", Runtime.getRuntime().availableProcessors());
    root.put("startedAt", startedAt.toString());
    ArrayNode flags = root.putArray("nodeJvmOptions");
    NodeJvm.options(NODE_HEAP).forEach(flags::add);
    ObjectNode modes = root.putObject("modes");
    ObjectNode cpuPerOrder = root.putObject("cpuPerOrderUs");
    for (String mode : MODES) {
      ModeTotal t = ModeTotal.of(all, mode);
      latency(modes.putObject(mode), t.latency(), t.acked(), t.rejected(), t.errors(), t.dropped());
      cpu(cpuPerOrder.putObject(mode), t.cpu(), t.acked());
    }
    ArrayNode perRound = root.putArray("perRound");
    for (Measured m : all) {
      ObjectNode r = perRound.addObject();
      r.put("round", m.round());
      r.put("mode", m.mode());
      OrderLoad.Interval i = m.result();
      latency(r, i.latency(), i.acked(), i.rejected(), i.errors(), i.dropped());
      r.put("measuredSeconds", round(m.seconds()));
      r.put("wanBytes", m.wanBytes());
      cpu(r.putObject("cpuPerOrderUs"), m.cpu(), i.acked());
    }
    return root;
  }

  private static void latency(
      ObjectNode n, Histogram h, long acked, long rejected, long errors, long dropped) {
    n.put("p50Ms", round(ms(h, 50)));
    n.put("p99Ms", round(ms(h, 99)));
    n.put("p999Ms", round(ms(h, 99.9)));
    n.put("maxMs", round(h.getMaxValue() / 1000.0));
    n.put("acked", acked);
    n.put("rejected", rejected);
    n.put("errors", errors);
    n.put("dropped", dropped);
  }

  private static void cpu(ObjectNode n, Cpu cpu, long acked) {
    cpu.perOrderUs(acked).forEach((part, us) -> n.put(part, Math.round(us)));
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private SyncCostBenchmark() {}
}
