package com.shrivenquant.local.drill;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * One unplanned failover drill and its way back, on a running {@link DrillEnvironment}: load ->
 * fault on region 1 (kill -9 of every node process, or a partition from the witness and region 2)
 * -> region 2 promotes -> load continues there -> region 1 returns as standby (tail set aside,
 * journal resynced) -> planned switchover back to region 1 under load.
 */
final class DrillRun {
  enum Fault {
    KILL,
    PARTITION
  }

  /** Everything measured in one drill; times in ms, -1 when not reached. */
  record Result(
      int drill,
      String fault,
      String mode,
      long detectionMs,
      long promotionMs,
      long rtoMs,
      int rpoEvents,
      String verdict,
      int acknowledged,
      int lost,
      int executedTwice,
      boolean webhookReceived,
      long failbackMs,
      int tailSetAside,
      boolean journalsEqual,
      long switchoverUnavailableMs,
      int switchoverAcknowledged,
      int switchoverLost,
      int switchoverTwice,
      long lastRegion1WriteMs,
      long firstRegion2WriteMs,
      long pauseMs,
      boolean falseFailover) {

    /**
     * Never two regions writing orders at once: region 1's last write precedes region 2's first.
     */
    boolean regionsNeverOverlapped() {
      return lastRegion1WriteMs < firstRegion2WriteMs;
    }
  }

  private final DrillEnvironment env;
  private final Consumer<String> progress;
  private final List<String> instruments;
  private final double rate;
  private final String mode;

  DrillRun(
      DrillEnvironment env,
      Consumer<String> progress,
      List<String> instruments,
      double rate,
      String mode) {
    this.env = env;
    this.progress = progress;
    this.instruments = instruments;
    this.rate = rate;
    this.mode = mode;
  }

  Result run(int n, Fault fault) throws Exception {
    return run(n, fault, env -> {});
  }

  /**
   * @param afterFault runs right after the fault is injected (tests use it to shape the race)
   */
  Result run(int n, Fault fault, Consumer<DrillEnvironment> afterFault) throws Exception {
    DrillEnvironment.Region r1 = env.region1;
    DrillEnvironment.Region r2 = env.region2;
    long epochBefore = r1.status().path("epoch").asLong();
    int webhooksBefore = env.webhookDeliveries.size();

    DrillClient client =
        new DrillClient(
                env.clientEndpoint(),
                instruments,
                4,
                rate,
                "d" + n + "-" + System.currentTimeMillis())
            .start();
    Thread.sleep(4000);
    // A stall shorter than the pause budget (SIGSTOP of every region-1 process) must not fail over.
    long pause = Math.max(100, env.pauseBudgetMs() - 300);
    r1.pause(Duration.ofMillis(pause));
    Thread.sleep(3000);
    JsonNode afterPause = r2.status();
    boolean falseFailover =
        afterPause == null
            || !"STANDBY".equals(afterPause.path("role").asText())
            || afterPause.path("epoch").asLong() != epochBefore;
    progress.accept(
        String.format(
            "drill %d: region-1 stopped (SIGSTOP) for %d ms, below the %d ms pause" + " budget: %s",
            n, pause, env.pauseBudgetMs(), falseFailover ? "FALSE FAILOVER" : "no failover"));
    if (falseFailover) {
      client.stopAndAwait(Duration.ofSeconds(20));
      throw new IllegalStateException(
          "false failover after a " + pause + " ms pause: " + afterPause);
    }
    Thread.sleep(4000); // a standby that has been following for a while, as in production
    progress.accept(
        String.format(
            "drill %d: %d orders acknowledged by region-1 so far; %s of region 1 now",
            n,
            client.acks().size(),
            fault == Fault.KILL ? "kill -9 of every node process" : "partition"));

    long t0 = System.currentTimeMillis();
    if (fault == Fault.KILL) {
      r1.kill9();
    } else {
      env.cutRegion1FromWitness();
      env.r2DbFromR1.blackhole();
      env.r1DbFromR2.blackhole();
    }
    afterFault.accept(env);

    Optional<DrillClient.Ack> first = Optional.empty();
    long deadline = System.currentTimeMillis() + 60_000;
    while (first.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
      first = client.firstAckFrom(DrillEnvironment.R2, t0);
    }
    long rto = first.map(a -> a.ackedAt() - t0).orElse(-1L);
    progress.accept(
        String.format("drill %d: first order accepted by region-2 %d ms after the fault", n, rto));
    Thread.sleep(2000);
    client.stopAndAwait(Duration.ofSeconds(20));

    JsonNode incident = awaitIncident(r2, "promotion", epochBefore);
    long decidedAt = incident.path("decidedAt").asLong();
    long activeAt = stepAt(incident, "active");
    JournalAudit.Result audit = JournalAudit.check(env.local, r2.db.dataSource(), client.acks());
    long lastR1 = maxWrite(r1.db.dataSource());
    long firstR2 = firstOwnWrite(r2.db.dataSource(), r1.db.dataSource());
    boolean webhook =
        env.webhookDeliveries.stream()
            .skip(webhooksBefore)
            .anyMatch(
                d ->
                    d.contains("\"kind\":\"promotion\"")
                        && d.contains("\"toEpoch\":" + incident.path("toEpoch").asLong()));
    progress.accept(
        String.format(
            "drill %d: promotion: detected %d ms after the fault, active %d ms later;"
                + " consistency %s, %d events of region-1 not replicated; %d acknowledged, %d lost, %d executed twice",
            n,
            decidedAt - t0,
            activeAt - decidedAt,
            incident.path("verdict").asText(),
            incident.path("eventsLost").asInt(),
            audit.acknowledged(),
            audit.lost(),
            audit.executedTwice()));

    // Region 1 comes back: fenced by the newer epoch, sets aside its tail, resyncs as standby.
    long back = System.currentTimeMillis();
    if (fault == Fault.KILL) {
      r1.start();
      r1.awaitReady(Duration.ofSeconds(120));
    } else {
      env.restoreRegion1ToWitness();
      env.r2DbFromR1.restore();
      env.r1DbFromR2.restore();
    }
    r1.awaitRole("STANDBY", false, Duration.ofSeconds(120));
    boolean equal = false;
    long eqDeadline = System.currentTimeMillis() + 60_000;
    while (!equal && System.currentTimeMillis() < eqDeadline) {
      equal = env.journalsEqual();
      if (!equal) Thread.sleep(200);
    }
    long failback = System.currentTimeMillis() - back;
    JsonNode failbackIncident = awaitIncident(r1, "failback", epochBefore);
    int tail = failbackIncident.path("eventsLost").asInt();
    progress.accept(
        String.format(
            "drill %d: region-1 is standby again after %d ms; %d events set aside for"
                + " reconciliation; journals equal: %s",
            n, failback, tail, equal));

    // Planned switchover back to region 1, under load.
    DrillClient after =
        new DrillClient(
                env.clientEndpoint(),
                instruments,
                4,
                rate,
                "s" + n + "-" + System.currentTimeMillis())
            .start();
    Thread.sleep(6000);
    long ts = System.currentTimeMillis();
    r2.post("/failover/switchover");
    Optional<DrillClient.Ack> firstBack = Optional.empty();
    long sDeadline = System.currentTimeMillis() + 30_000;
    while (firstBack.isEmpty() && System.currentTimeMillis() < sDeadline) {
      Thread.sleep(20);
      firstBack = after.firstAckFrom(DrillEnvironment.R1, ts);
    }
    Thread.sleep(1000);
    after.stopAndAwait(Duration.ofSeconds(20));
    long unavailable = -1;
    if (firstBack.isPresent()) {
      long firstR1 = firstBack.get().ackedAt();
      long lastR2 =
          after.acks().stream()
              .filter(a -> a.region().equals(DrillEnvironment.R2) && a.ackedAt() <= firstR1)
              .mapToLong(DrillClient.Ack::ackedAt)
              .max()
              .orElse(ts);
      unavailable = firstR1 - lastR2;
    }
    r1.awaitRole("ACTIVE", true, Duration.ofSeconds(30));
    r2.awaitRole("STANDBY", false, Duration.ofSeconds(60));
    // Both sides' acknowledgements must be in region 1's journal once region 2's tail (none in a
    // switchover) has been published and applied.
    JournalAudit.Result switched = auditWhenApplied(r1.db.dataSource(), after.acks());
    progress.accept(
        String.format(
            "drill %d: switchover back to region-1: clients saw %d ms without acks;"
                + " %d acknowledged, %d lost, %d executed twice",
            n, unavailable, switched.acknowledged(), switched.lost(), switched.executedTwice()));

    return new Result(
        n,
        fault.name().toLowerCase(),
        mode,
        decidedAt - t0,
        activeAt - decidedAt,
        rto,
        incident.path("eventsLost").asInt(),
        incident.path("verdict").asText(),
        audit.acknowledged(),
        audit.lost(),
        audit.executedTwice(),
        webhook,
        failback,
        tail,
        equal,
        unavailable,
        switched.acknowledged(),
        switched.lost(),
        switched.executedTwice(),
        lastR1,
        firstR2,
        pause,
        falseFailover);
  }

  private JournalAudit.Result auditWhenApplied(DataSource db, List<DrillClient.Ack> acks)
      throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    JournalAudit.Result r;
    do {
      r = JournalAudit.check(env.local, db, acks);
      if (r.lost() == 0) return r;
      Thread.sleep(200);
    } while (System.currentTimeMillis() < deadline);
    return r;
  }

  private static JsonNode awaitIncident(
      DrillEnvironment.Region region, String kind, long afterEpoch) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      for (JsonNode i : region.incidents()) {
        if (kind.equals(i.path("kind").asText()) && i.path("toEpoch").asLong() > afterEpoch)
          return i;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(
        "no " + kind + " incident in " + region.name + " after epoch " + afterEpoch);
  }

  private static long stepAt(JsonNode incident, String name) {
    for (JsonNode s : incident.path("steps")) {
      if (name.equals(s.path("name").asText())) return s.path("at").asLong();
    }
    return -1;
  }

  private static long maxWrite(DataSource db) throws Exception {
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT coalesce(max(write_timestamp), 0) FROM event_journal");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  // Region 2's own writes are the rows whose writer (a persistence incarnation) never wrote in
  // region 1: replicated rows keep region 1's writer.
  private static long firstOwnWrite(DataSource region2, DataSource region1) throws Exception {
    java.util.Set<String> r1Writers = new java.util.HashSet<>();
    try (Connection c = region1.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT DISTINCT writer FROM event_journal");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) r1Writers.add(rs.getString(1));
    }
    long first = Long.MAX_VALUE;
    try (Connection c = region2.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT writer, min(write_timestamp) FROM event_journal GROUP BY writer");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        if (!r1Writers.contains(rs.getString(1))) first = Math.min(first, rs.getLong(2));
      }
    }
    return first;
  }
}
