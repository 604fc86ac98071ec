package com.shrivenquant.cluster.ops;

import akka.actor.typed.ActorSystem;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.shrivenquant.failover.Failover;
import com.shrivenquant.failover.region.PrimacyAgent;
import com.shrivenquant.failover.region.RegionCoordinatorActor;
import com.shrivenquant.failover.region.RegionRole;
import com.shrivenquant.replication.publish.PublisherPosition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A drill on a live deployment, started through the operator API: a planned switchover of the
 * ACTIVE region to its peer (which loses nothing), measured and reported. The report, kept in
 * {@code operator_drill}, has the time to hand the lease over, the unavailability (request until
 * the peer region is ACTIVE, seen by polling its region state every 20 ms, so at most 20 ms
 * pessimistic), the events published and the journal head, and the peer's consistency report for
 * the new epoch. Unplanned faults (kill -9, partitions) stay with {@code bin/shrivenquant drill}:
 * they are not safe to inject into production.
 */
final class SwitchoverDrillRunner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SwitchoverDrillRunner.class);

  /** The drill cannot start (wrong role, one already running). */
  static final class Refused extends Exception {
    Refused(String message) {
      super(message);
    }
  }

  private final ActorSystem<?> system;
  private final SwitchoverDrillStore store;
  private final Duration timeout;
  private final ExecutorService runner =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "operator-drill");
            t.setDaemon(true);
            return t;
          });

  SwitchoverDrillRunner(ActorSystem<?> system, SwitchoverDrillStore store, Duration timeout) {
    this.system = system;
    this.store = store;
    this.timeout = timeout;
  }

  SwitchoverDrillStore store() {
    return store;
  }

  /** Records the drill as RUNNING and runs it in the background; its id. */
  long start(Failover failover, String requestedBy) throws Refused, SQLException {
    PrimacyAgent.Status s = failover.agent().orElseThrow().status();
    if (s.role() != RegionRole.ACTIVE) {
      throw new Refused(
          "a drill switches the ACTIVE region over; " + s.region() + " is " + s.role());
    }
    long id;
    try {
      id = store.start(s.region(), requestedBy);
    } catch (SwitchoverDrillStore.AlreadyRunning e) {
      throw new Refused(e.getMessage());
    }
    runner.execute(() -> run(id, failover, requestedBy));
    return id;
  }

  private void run(long id, Failover failover, String requestedBy) {
    ObjectNode report = OperatorJson.JSON.createObjectNode();
    boolean succeeded = false;
    try {
      succeeded = measure(id, failover, requestedBy, report);
    } catch (Exception e) {
      report.put("error", String.valueOf(e.getMessage()));
      log.error("Drill {} failed", id, e);
    }
    try {
      store.finish(id, succeeded, report.toString());
      log.info("Drill {} {}: {}", id, succeeded ? "succeeded" : "failed", report);
    } catch (SQLException e) {
      log.error("Drill {} report not stored: {}", id, report, e);
    }
  }

  private boolean measure(long id, Failover failover, String requestedBy, ObjectNode report)
      throws Exception {
    String region = failover.settings().region();
    String peer = failover.settings().peerRegion();
    DataSource db = failover.regionDb().orElseThrow();
    PublisherPosition position = new PublisherPosition(db, region);
    report.put("drill", id);
    report.put("kind", "switchover");
    report.put("from", region);
    report.put("to", peer);
    report.put("requestedBy", requestedBy);
    PublisherPosition.Progress before = position.progress();
    long t0 = System.nanoTime();
    report.put("startedAtMillis", System.currentTimeMillis());

    RegionCoordinatorActor.Done done =
        failover
            .command(
                replyTo ->
                    new RegionCoordinatorActor.Switchover(
                        "drill " + id + " by " + requestedBy, replyTo),
                timeout)
            .toCompletableFuture()
            .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    long handedOver = millisSince(t0);
    if (!done.error().isEmpty()) {
      report.put("error", "switchover refused: " + done.error());
      return false;
    }
    long epoch = done.epoch();
    PublisherPosition.Progress after = position.progress();
    report.put("epoch", epoch);
    report.put("handoverMillis", handedOver);
    report.put("journalHead", after.journalHead());
    report.put("publishedUpTo", after.publishedUpTo());
    report.put("eventsPublishedDuringDrill", after.publishedUpTo() - before.publishedUpTo());
    report.put("everythingPublished", after.publishedUpTo() >= after.journalHead());

    Optional<DataSource> peerDb = failover.peerDb();
    if (peerDb.isEmpty()) {
      report.put(
          "note",
          "the peer journal is not configured (shrivenquant.failover.peer-journal): the peer's"
              + " activation and consistency report cannot be read here; ask the peer region");
      return after.publishedUpTo() >= after.journalHead();
    }
    long deadline = t0 + timeout.toNanos();
    while (!peerActive(peerDb.get(), peer, epoch)) {
      if (System.nanoTime() > deadline) {
        report.put(
            "error", peer + " did not become ACTIVE in epoch " + epoch + " within " + timeout);
        return false;
      }
      Thread.sleep(20);
    }
    report.put("unavailableMillis", millisSince(t0));
    Optional<JsonNode> consistency = Optional.empty();
    while (consistency.isEmpty() && System.nanoTime() < deadline) {
      consistency =
          document(
              peerDb.get(),
              "SELECT document::text FROM consistency_report WHERE epoch = ? ORDER BY id DESC LIMIT 1",
              epoch);
      if (consistency.isEmpty()) Thread.sleep(50);
    }
    if (consistency.isEmpty()) {
      report.put(
          "error",
          peer + " stored no consistency report for epoch " + epoch + " within " + timeout);
      return false;
    }
    JsonNode c = consistency.get();
    report.put("verdict", c.path("verdict").asText());
    report.put("peerEventsChecked", c.path("eventsChecked").asLong());
    report.put("publishedButNotApplied", c.path("publishedButMissing").size());
    report.put("eventsLost", c.path("lost").size());
    document(
            peerDb.get(),
            "SELECT document::text FROM failover_incident WHERE epoch = ? AND kind = 'switchover'"
                + " ORDER BY id DESC LIMIT 1",
            epoch)
        .ifPresent(i -> report.set("peerSteps", i.path("steps")));
    return "CONSISTENT".equals(c.path("verdict").asText())
        && after.publishedUpTo() >= after.journalHead();
  }

  private static boolean peerActive(DataSource peerDb, String peer, long epoch) {
    try (Connection c = peerDb.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT role, epoch FROM region_state WHERE region = ?")) {
      ps.setString(1, peer);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getString(1).equals("ACTIVE") && rs.getLong(2) >= epoch;
      }
    } catch (SQLException e) {
      log.debug("Peer region state unreadable: {}", e.getMessage());
      return false;
    }
  }

  private static Optional<JsonNode> document(DataSource db, String sql, long epoch)
      throws Exception {
    try (Connection c = db.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, epoch);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(OperatorJson.JSON.readTree(rs.getString(1)))
            : Optional.empty();
      }
    }
  }

  private static long millisSince(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  @Override
  public void close() {
    runner.shutdownNow();
  }
}
