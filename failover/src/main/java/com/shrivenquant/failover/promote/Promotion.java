package com.shrivenquant.failover.promote;

import com.shrivenquant.failover.FailoverContext;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.lease.LeaseState;
import com.shrivenquant.failover.lease.PrimacyLease;
import com.shrivenquant.failover.notify.Incident;
import com.shrivenquant.failover.region.RegionRole;
import com.shrivenquant.failover.region.RegionState;
import com.shrivenquant.failover.region.RegionStateStore;
import com.shrivenquant.failover.verify.ConsistencyReport;
import com.shrivenquant.failover.verify.ConsistencyVerifier;
import com.shrivenquant.failover.verify.JournalDigests;
import com.shrivenquant.failover.verify.PublishedLog;
import com.shrivenquant.failover.watch.CrossRegionWatcher;
import com.shrivenquant.replication.apply.StandbyApplier;
import com.shrivenquant.replication.publish.PublisherPosition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standby becomes active, in the seed's order: take the lease (epoch + 1) -> drain every record
 * already replicated -> record the prefix it starts from -> ACTIVE (nodes accept orders; entities
 * recover from the replicated journal) -> move client routing -> verify consistency -> notify. Each
 * step's completion time goes into the incident.
 */
public final class Promotion {
  private static final Logger log = LoggerFactory.getLogger(Promotion.class);

  public record Result(boolean promoted, long epoch, Optional<Incident> incident) {}

  private final FailoverContext ctx;
  private final FailoverSettings settings;
  private final DataSource regionDb;
  private final PrimacyLease lease;
  private final RegionStateStore store;
  private final List<Incident.Step> steps = new ArrayList<>();
  private java.util.function.LongConsumer startPublisher;
  private long last;

  /**
   * @param lease the coordinator's client of the witness (promotion keeps it renewed)
   */
  public Promotion(FailoverContext ctx, PrimacyLease lease) {
    this.ctx = ctx;
    this.settings = ctx.settings();
    this.regionDb = ctx.regionDb();
    this.lease = lease;
    this.store = ctx.store();
  }

  /**
   * @param handedOver the old active region already gave this region the lease (switchover)
   * @param applier the running applier of the peer's topic (drained, then stopped)
   */
  public Result run(
      String kind,
      RegionState standby,
      LeaseState seen,
      boolean handedOver,
      StandbyApplier applier,
      CrossRegionWatcher.Evidence evidence,
      java.util.function.LongConsumer startPublisher)
      throws Exception {
    this.startPublisher = startPublisher;
    long decided = System.currentTimeMillis();
    last = decided;
    String previous =
        seen.holder().filter(h -> !h.equals(settings.region())).orElse(settings.peerRegion());
    long epoch;
    if (handedOver) {
      epoch = seen.epoch();
      step("lease-handed-over");
    } else {
      OptionalLong taken = lease.acquire(settings.region(), seen.epoch());
      if (taken.isEmpty()) {
        log.info(
            "Lease moved before {} could take it (renewed or taken): no promotion",
            settings.region());
        return new Result(false, standby.epoch(), Optional.empty());
      }
      epoch = taken.getAsLong();
      step("lease-taken");
    }
    log.warn(
        "Region {} promoting itself to epoch {} ({}; {} lease age {} ms)",
        settings.region(),
        epoch,
        kind,
        previous,
        seen.ageMillis());
    // Until the nodes renew it as ACTIVE, the promotion keeps the lease itself: drain and entity
    // recovery may take longer than its TTL.
    java.util.concurrent.ScheduledExecutorService keeper = keepLease(epoch);
    try {
      return promoted(kind, seen, epoch, previous, decided, applier, evidence);
    } finally {
      keeper.schedule(
          keeper::shutdownNow,
          4 * settings.watcherPollInterval().toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  private java.util.concurrent.ScheduledExecutorService keepLease(long epoch) {
    java.util.concurrent.ScheduledExecutorService keeper =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "promotion-lease-keeper");
              t.setDaemon(true);
              return t;
            });
    long every = settings.lease().renewInterval().toMillis();
    keeper.scheduleWithFixedDelay(
        () -> {
          try {
            lease.renew(settings.region(), epoch);
          } catch (PrimacyLease.LeaseUnavailable | RuntimeException e) {
            log.debug("Renewal during promotion failed: {}", e.toString());
          }
        },
        every,
        every,
        TimeUnit.MILLISECONDS);
    return keeper;
  }

  private Result promoted(
      String kind,
      LeaseState seen,
      long epoch,
      String previous,
      long decided,
      StandbyApplier applier,
      CrossRegionWatcher.Evidence evidence)
      throws Exception {
    String drainNote = drain(applier, epoch);
    step("drained");

    Map<String, Long> prefix = recordPrefix(epoch, previous, kind);
    step("prefix-recorded");

    // Every entity with events recovers from the complete journal now, in parallel and before
    // the first order, instead of one by one as orders arrive (intake is still closed).
    String recovery;
    try {
      int n =
          ctx.recovery()
              .recover(prefix.keySet())
              .toCompletableFuture()
              .get(settings.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
      recovery = n + " entities recovered";
    } catch (Exception e) {
      recovery = "entity recovery incomplete: " + e;
      log.warn("Not every entity recovered before intake opened: {}", e.toString());
    }
    step("entities-recovered");

    store.save(RegionRole.ACTIVE, epoch, kind + ": took over from " + previous);
    step("active");
    // Publishing starts with intake: in sync durability no ack leaves before it is published.
    startPublisher.accept(epoch);

    // After intake opened, not before: clients sent early only retry against a region still
    // recovering, and on cold JVMs that load slowed the promotion (docs/BENCHMARKS.md, issue 14).
    // A failed route is retried by the coordinator's RouteKeeper.
    String routing;
    try {
      routing = ctx.router().route(settings.region(), epoch, settings.orderApiUrl());
    } catch (Exception e) {
      routing = "routing update failed: " + e;
      log.error("Client routing update failed after promotion to epoch {}", epoch, e);
    }
    step("routed");

    ConsistencyReport report = verify(epoch, previous, prefix);
    step("verified");

    Map<String, Object> ev = new LinkedHashMap<>();
    ev.put("leaseAgeMillis", evidence.leaseAgeMillis());
    ev.put("leaseTtlMillis", evidence.leaseTtlMillis());
    ev.put("peerHealth", evidence.peerHealth());
    ev.put("millisSinceLastReplicatedRecord", evidence.millisSinceLastReplicatedRecord());
    ev.put("drain", drainNote);
    ev.put("entities", prefix.size());
    ev.put("recovery", recovery);
    Incident incident =
        new Incident(
            kind,
            settings.region(),
            previous,
            seen.epoch(),
            epoch,
            decided,
            ev,
            List.copyOf(steps),
            routing,
            report.verdict(),
            report.lost().size(),
            settings.region()
                + " active in epoch "
                + epoch
                + " after "
                + (System.currentTimeMillis() - decided)
                + " ms; consistency "
                + report.verdict()
                + ", "
                + (report.peerReadable()
                    ? report.lost().size() + " events of " + previous + " not replicated"
                    : previous + "'s journal not readable: the RPO list comes with its failback"));
    ctx.notifier().notify(incident);
    log.warn("{}", incident.summary());
    return new Result(true, epoch, Optional.of(incident));
  }

  private String drain(StandbyApplier applier, long epoch) {
    if (applier == null) return "no applier running";
    CompletableFuture<?> drained = applier.drain(settings.drainTimeout()).toCompletableFuture();
    String note = "drained";
    try {
      drained.get();
    } catch (Exception e) {
      note = "drain incomplete: " + e.getMessage();
      log.error("Promotion proceeds without a complete drain: {}", e.getMessage());
    }
    applier.fenceBelow(epoch);
    try {
      applier.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("Applier did not stop cleanly: {}", e.toString());
    }
    return note;
  }

  // What this region starts from, stored before it accepts anything: the old primary sets aside
  // everything of its own beyond it. The publisher starts after it (those rows came from the peer).
  private Map<String, Long> recordPrefix(long epoch, String previous, String kind)
      throws Exception {
    try (Connection c = regionDb.getConnection()) {
      c.setAutoCommit(false);
      Map<String, Long> prefix = JournalDigests.lastSequenceNumbers(c);
      long maxOrdering = PublisherPosition.journalHead(c);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO promotion (epoch, region, previous, kind) VALUES (?, ?, ?, ?)")) {
        ps.setLong(1, epoch);
        ps.setString(2, settings.region());
        ps.setString(3, previous);
        ps.setString(4, kind);
        ps.executeUpdate();
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO replicated_prefix (epoch, persistence_id, sequence_number) VALUES (?, ?, ?)")) {
        for (Map.Entry<String, Long> e : prefix.entrySet()) {
          ps.setLong(1, epoch);
          ps.setString(2, e.getKey());
          ps.setLong(3, e.getValue());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      c.commit();
      new PublisherPosition(regionDb, settings.region()).save(maxOrdering, List.of());
      return prefix;
    }
  }

  private ConsistencyReport verify(long epoch, String previous, Map<String, Long> prefix) {
    try {
      Map<String, Long> published =
          PublishedLog.lastPublished(
              settings.bootstrapServers(),
              settings.topicOf(previous),
              epoch,
              Duration.ofSeconds(30));
      ConsistencyReport report =
          ConsistencyVerifier.verify(
              epoch, settings.region(), previous, prefix, published, regionDb, ctx.peerDb());
      ConsistencyStore.save(regionDb, report);
      return report;
    } catch (Exception e) {
      log.error("Consistency verification failed to run", e);
      ConsistencyReport report =
          new ConsistencyReport(
              epoch,
              settings.region(),
              previous,
              ConsistencyReport.Verdict.INCONSISTENT,
              0,
              0,
              List.of("verification did not run: " + e),
              List.of(),
              false,
              List.of(),
              List.of(),
              0);
      try {
        ConsistencyStore.save(regionDb, report);
      } catch (Exception ignored) {
        // logged above
      }
      return report;
    }
  }

  private void step(String name) {
    long now = System.currentTimeMillis();
    steps.add(new Incident.Step(name, now, now - last));
    last = now;
  }
}
