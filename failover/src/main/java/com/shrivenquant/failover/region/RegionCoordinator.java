package com.shrivenquant.failover.region;

import com.shrivenquant.failover.FailoverContext;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.durability.DurablePositionPublisher;
import com.shrivenquant.failover.failback.Failback;
import com.shrivenquant.failover.lease.LeaseState;
import com.shrivenquant.failover.lease.PrimacyLease;
import com.shrivenquant.failover.notify.Incident;
import com.shrivenquant.failover.promote.Promotion;
import com.shrivenquant.failover.region.RegionPolicy.Decision;
import com.shrivenquant.failover.routing.RouteKeeper;
import com.shrivenquant.failover.watch.CrossRegionWatcher;
import com.shrivenquant.replication.apply.StandbyApplier;
import com.shrivenquant.replication.publish.JournalPublisher;
import com.shrivenquant.replication.publish.PublisherPosition;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One per region (a cluster singleton): the only writer of the region's role. By role it runs the
 * journal publisher (ACTIVE), the applier and the cross-region watcher (STANDBY), or failback
 * (FENCED). Promotion, switchover and failback run on its single thread, so they never overlap.
 * Each tick gathers the inputs, lets {@link RegionPolicy} decide and carries the decision out.
 */
public final class RegionCoordinator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RegionCoordinator.class);

  private final FailoverContext ctx;
  private final FailoverSettings settings;
  private final PrimacyLease lease;
  private final RegionStateStore store;
  private final RegionPolicy policy;
  private final CrossRegionWatcher watcher;
  private final ScheduledExecutorService thread;
  private final RouteKeeper routes;

  private final Optional<DurablePositionPublisher> durablePositions;
  private volatile JournalPublisher publisher;
  private volatile long publisherEpoch;
  private volatile StandbyApplier applier;
  private boolean topicsReady;
  private long lastWaitLog;

  /**
   * @param durablePositions in {@code sync} durability: where the publisher's acknowledged position
   *     goes, to every node's waiting acks
   */
  public RegionCoordinator(
      FailoverContext ctx, Optional<DurablePositionPublisher> durablePositions) {
    this.ctx = ctx;
    this.durablePositions = durablePositions;
    this.settings = ctx.settings();
    this.lease = ctx.leases().get();
    this.store = ctx.store();
    this.policy = RegionPolicy.of(settings);
    this.routes =
        new RouteKeeper(
            ctx.router(),
            settings.region(),
            settings.orderApiUrl(),
            settings.routingRetryInterval());
    this.watcher =
        new CrossRegionWatcher(settings, () -> applier == null ? 0 : applier.lastAppliedAtMillis());
    this.thread =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "region-coordinator");
              t.setDaemon(true);
              return t;
            });
  }

  public RegionCoordinator start() {
    long tick = settings.watcherPollInterval().toNanos();
    thread.scheduleWithFixedDelay(this::tickSafely, 0, tick, TimeUnit.NANOSECONDS);
    log.info("Region coordinator of {} started", settings.region());
    return this;
  }

  public FailoverSettings settings() {
    return settings;
  }

  public Optional<StandbyApplier> applier() {
    return Optional.ofNullable(applier);
  }

  /**
   * Planned switchover, asked of the ACTIVE region: stop intake, publish everything, hand the lease
   * to the peer. The peer promotes itself when it sees the lease; this region then resyncs as its
   * standby. Completes with the epoch handed over.
   */
  public CompletableFuture<Long> switchover(String requestedBy) {
    return onThread(() -> Switchover.run(this, requestedBy));
  }

  /**
   * Forced promotion, ordered by an operator on the STANDBY region while the watcher has not fired:
   * take the lease (seize it from a holder that still renews), wait out the ttl so that every node
   * of the old holder has fenced itself, then promote as usual (drain, recover, ACTIVE, route,
   * verify, notify). Completes with the new epoch.
   */
  public CompletableFuture<Long> forcePromote(String requestedBy) {
    return onThread(() -> forcedPromotion(requestedBy));
  }

  /**
   * Emergency stop, ordered by an operator on the ACTIVE region: FENCED in the current epoch, so
   * every node stops accepting within one poll. Nodes stop renewing; once the lease expires the
   * standby's watcher promotes it, and this region fails back as its standby. Completes with the
   * epoch fenced.
   */
  public CompletableFuture<Long> fence(String requestedBy) {
    return onThread(
        () -> {
          RegionState s =
              store.load().orElseThrow(() -> new IllegalStateException("region role unknown"));
          if (s.role() != RegionRole.ACTIVE) {
            throw new IllegalStateException(
                settings.region() + " is " + s.role() + ", not ACTIVE: it accepts nothing");
          }
          store.save(RegionRole.FENCED, s.epoch(), "fenced by " + requestedBy);
          log.warn("Region {} fenced in epoch {} by {}", settings.region(), s.epoch(), requestedBy);
          // Every node reads the role within one poll: answer once they have.
          Thread.sleep(settings.watcherPollInterval().toMillis() + 50);
          return s.epoch();
        });
  }

  private interface Step {
    long run() throws Exception;
  }

  private CompletableFuture<Long> onThread(Step step) {
    CompletableFuture<Long> result = new CompletableFuture<>();
    thread.execute(
        () -> {
          try {
            result.complete(step.run());
          } catch (Exception e) {
            result.completeExceptionally(e);
          }
        });
    return result;
  }

  private long forcedPromotion(String requestedBy) throws Exception {
    RegionState s =
        store.load().orElseThrow(() -> new IllegalStateException("region role unknown"));
    if (s.role() != RegionRole.STANDBY) {
      throw new IllegalStateException(
          settings.region() + " is " + s.role() + ", not STANDBY: only a standby can be promoted");
    }
    LeaseState seen = lease.read();
    if (seen.heldBy(settings.region())) {
      throw new IllegalStateException(
          settings.region() + " already holds the lease in epoch " + seen.epoch());
    }
    // A free or expired lease needs no wait: the witness already judged the old holder fenced.
    OptionalLong taken = lease.acquire(settings.region(), seen.epoch());
    boolean seized = taken.isEmpty();
    if (seized) taken = lease.seize(settings.region(), seen.epoch());
    if (taken.isEmpty()) {
      throw new IllegalStateException(
          "the lease moved on from epoch " + seen.epoch() + " meanwhile: nothing done");
    }
    long epoch = taken.getAsLong();
    log.warn(
        "Region {} took the lease in epoch {} by force ({}), from {}",
        settings.region(),
        epoch,
        requestedBy,
        seen.holder().orElse("nobody"));
    if (seized) outwaitOldHolder(epoch);
    LeaseState ours = lease.read();
    if (!ours.heldBy(settings.region()) || ours.epoch() != epoch) {
      throw new IllegalStateException("lost the lease while waiting: " + ours);
    }
    promote("forced-promotion", s, ours, true);
    return epoch;
  }

  // A node of the old holder may accept until fence-margin after its last successful renewal
  // began, which was before the seizure at the witness. One ttl on the witness's clock after the
  // seizure covers it (fence-margin * (1 + drift) < ttl * (1 - drift), checked at start-up). The
  // lease is renewed meanwhile so that it stays ours.
  private void outwaitOldHolder(long epoch) throws Exception {
    long ttl = settings.lease().ttl().toMillis();
    long giveUp = System.nanoTime() + 10 * settings.lease().ttl().toNanos();
    while (true) {
      try {
        if (!lease.renew(settings.region(), epoch)) {
          throw new IllegalStateException(
              "the lease was taken from " + settings.region() + " in epoch " + epoch);
        }
        long since = lease.sinceSeized(epoch).orElse(ttl);
        if (since >= ttl) return;
        Thread.sleep(
            Math.max(1, Math.min(settings.lease().renewInterval().toMillis(), ttl - since)));
      } catch (PrimacyLease.LeaseUnavailable e) {
        if (System.nanoTime() > giveUp) throw e; // the tick promotes once the witness answers again
        Thread.sleep(settings.lease().renewInterval().toMillis());
      }
    }
  }

  /** Per-stage replication figures, read now (a few indexed queries on the region database). */
  public ReplicationStatus replicationStatus() throws java.sql.SQLException {
    Optional<RegionState> state = store.load();
    var progress = new PublisherPosition(ctx.regionDb(), settings.region()).progress();
    long head = progress.journalHead();
    JournalPublisher running = publisher;
    // The stored position lags the acknowledged one by up to position-store-interval.
    long published =
        Math.max(progress.publishedUpTo(), running == null ? 0 : running.acknowledgedUpTo());
    long oldestAge = -1;
    if (publisher != null && head > published) {
      OptionalLong writtenAt = store.oldestUnpublishedWrittenAt(published);
      if (writtenAt.isPresent()) oldestAge = System.currentTimeMillis() - writtenAt.getAsLong();
    }
    StandbyApplier a = applier;
    org.HdrHistogram.Histogram lag = a == null ? null : a.lagSinceLastCall();
    boolean hasLag = lag != null && lag.getTotalCount() > 0;
    return new ReplicationStatus(
        settings.region(),
        state.map(s -> s.role().name()).orElse("UNKNOWN"),
        state.map(RegionState::epoch).orElse(0L),
        settings.durability().name().toLowerCase(),
        publisher != null,
        head,
        published,
        publisher == null ? -1 : Math.max(0, oldestAge),
        a != null,
        a == null ? -1 : a.applied(),
        a == null ? -1 : a.refused(),
        a == null || a.lastAppliedAtMillis() == 0
            ? -1
            : System.currentTimeMillis() - a.lastAppliedAtMillis(),
        hasLag ? lag.getTotalCount() : 0,
        hasLag ? lag.getValueAtPercentile(50) / 1000.0 : -1,
        hasLag ? lag.getValueAtPercentile(99) / 1000.0 : -1,
        hasLag ? lag.getMaxValue() / 1000.0 : -1);
  }

  private void tickSafely() {
    try {
      tick();
    } catch (PrimacyLease.LeaseUnavailable e) {
      log.debug("Witness unavailable: {}", e.getMessage());
    } catch (Exception e) {
      log.warn("Region coordinator tick failed", e);
    }
  }

  private void tick() throws Exception {
    if (!topicsReady) topicsReady = ensureTopics();
    Optional<RegionState> state = store.load();
    LeaseState leaseNow = lease.read();
    // Witness reads only where the decision needs them, as before the policy existed.
    OptionalLong sinceSeized =
        policy.needsSeizureAge(state, leaseNow)
            ? lease.sinceSeized(leaseNow.epoch())
            : OptionalLong.empty();
    if (policy.watchesPeer(state, leaseNow)) watcher.probeHealth();
    Decision d = policy.decide(new RegionPolicy.Inputs(state, leaseNow, sinceSeized));
    carryOut(d, state, leaseNow);
  }

  private void carryOut(Decision d, Optional<RegionState> state, LeaseState leaseNow)
      throws Exception {
    if (d instanceof RegionPolicy.Bootstrap b) {
      bootstrap(b, leaseNow);
      return;
    }
    RegionState s = state.orElseThrow();
    if (d instanceof RegionPolicy.RunPublisher p) {
      stopApplier();
      ensurePublisher(p.epoch());
      routes.ensure(p.epoch());
    } else if (d instanceof RegionPolicy.Fence f) {
      stopPublisher();
      store.save(RegionRole.FENCED, f.epoch(), "fenced: " + f.why());
      log.warn("Region {} fenced itself in epoch {}: {}", settings.region(), f.epoch(), f.why());
    } else if (d instanceof RegionPolicy.Promote p) {
      runAsStandby(s, leaseNow);
      promote(p.kind().label(), s, leaseNow, p.handedOver());
    } else if (d instanceof RegionPolicy.FollowEpoch f) {
      runAsStandby(s, leaseNow).fenceBelow(f.epoch());
      store.save(
          RegionRole.STANDBY, f.epoch(), "standby of " + f.holder() + " in epoch " + f.epoch());
    } else if (d instanceof RegionPolicy.RunApplier) {
      runAsStandby(s, leaseNow);
    } else if (d instanceof RegionPolicy.Wait w
        && w.reason() == RegionPolicy.WaitReason.SEIZED_TOO_RECENTLY) {
      runAsStandby(s, leaseNow);
    } else if (d instanceof RegionPolicy.Wait) {
      runNothing();
    } else if (d instanceof RegionPolicy.StartFailback) {
      runNothing();
      failback(s, leaseNow);
    }
  }

  private StandbyApplier runAsStandby(RegionState s, LeaseState leaseNow) {
    stopPublisher();
    return ensureApplier(Math.max(s.epoch(), leaseNow.epoch()));
  }

  private void runNothing() {
    stopPublisher();
    stopApplier();
  }

  private void failback(RegionState s, LeaseState leaseNow) throws Exception {
    Optional<Incident> done = Failback.run(ctx, s, leaseNow);
    if (done.isEmpty() && System.currentTimeMillis() - lastWaitLog > 10_000) {
      lastWaitLog = System.currentTimeMillis();
      log.warn(
          "Region {} fenced in epoch {}; waiting for the new active region's promotion"
              + " record to set aside its unreplicated tail",
          settings.region(),
          s.epoch());
    }
  }

  private void bootstrap(RegionPolicy.Bootstrap b, LeaseState leaseNow) throws Exception {
    switch (b.kind()) {
      case FIRST_ACTIVE -> {
        var taken = lease.acquire(settings.region(), b.epoch());
        if (taken.isPresent()) {
          store.save(RegionRole.ACTIVE, taken.getAsLong(), b.reason());
          log.info(
              "Region {} is the first active region (epoch {})",
              settings.region(),
              taken.getAsLong());
        }
      }
      case STANDBY_OF_HOLDER, STANDBY_WAITING ->
          store.save(RegionRole.STANDBY, b.epoch(), b.reason());
      case STATE_LOST -> store.save(RegionRole.FENCED, b.epoch(), b.reason());
    }
  }

  private void promote(String kind, RegionState s, LeaseState leaseNow, boolean handedOver)
      throws Exception {
    Promotion.Result r =
        new Promotion(ctx, lease)
            .run(
                kind,
                s,
                leaseNow,
                handedOver,
                applier,
                watcher.evidence(leaseNow),
                epoch -> {
                  try {
                    ensurePublisher(epoch);
                  } catch (java.sql.SQLException e) {
                    throw new IllegalStateException("could not start the publisher", e);
                  }
                });
    if (r.promoted()) {
      applier = null;
      ensurePublisher(r.epoch());
    }
  }

  void ensurePublisher(long epoch) throws java.sql.SQLException {
    if (publisher != null && publisherEpoch == epoch) return;
    stopPublisher();
    publisherEpoch = epoch;
    publisher =
        JournalPublisher.start(
            ctx.system(),
            ctx.regionDb(),
            JournalPublisher.Settings.fromConfig(
                ctx.system().settings().config(),
                settings.region(),
                settings.topicOf(settings.region()),
                settings.bootstrapServers()),
            () -> publisherEpoch,
            upTo -> durablePositions.ifPresent(d -> d.acknowledged(epoch, upTo)));
    log.info(
        "Publishing {}'s journal to {} in epoch {}",
        settings.region(),
        settings.topicOf(settings.region()),
        epoch);
  }

  /**
   * Every journal row up to here is in the broker: the running publisher's acknowledged position
   * (in memory; it starts from the stored one), else the stored position.
   */
  long publishedUpTo() throws java.sql.SQLException {
    JournalPublisher p = publisher;
    return p != null
        ? p.acknowledgedUpTo()
        : new PublisherPosition(ctx.regionDb(), settings.region()).load();
  }

  void stopPublisher() {
    JournalPublisher p = publisher;
    publisher = null;
    if (p != null) {
      p.stop();
      try {
        p.done().toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("Publisher did not stop cleanly: {}", e.toString());
      }
    }
  }

  private StandbyApplier ensureApplier(long fence) {
    if (applier == null) {
      applier =
          StandbyApplier.start(
              ctx.system(),
              ctx.regionDb(),
              new StandbyApplier.Settings(
                  settings.region() + "-applier",
                  settings.topicOf(settings.peerRegion()),
                  settings.bootstrapServers(),
                  2000,
                  Duration.ofMillis(20)),
              fence);
      log.info(
          "Applying {} into {}'s journal, refusing epochs below {}",
          settings.topicOf(settings.peerRegion()),
          settings.region(),
          fence);
    }
    return applier;
  }

  private void stopApplier() {
    StandbyApplier a = applier;
    applier = null;
    if (a != null) {
      try {
        a.stop().toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("Applier did not stop cleanly: {}", e.toString());
      }
    }
  }

  private boolean ensureTopics() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
    // The client refuses an API timeout below its request timeout (30 s by default).
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "4000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    try (AdminClient admin = AdminClient.create(p)) {
      for (String region : List.of(settings.region(), settings.peerRegion())) {
        try {
          admin
              .createTopics(
                  List.of(
                      new NewTopic(
                          settings.topicOf(region),
                          settings.partitions(),
                          settings.replicationFactor())))
              .all()
              .get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
      }
      return true;
    } catch (Exception e) {
      log.warn("Could not create the replication topics yet: {}", e.toString(), e);
      return false;
    }
  }

  PrimacyLease lease() {
    return lease;
  }

  RegionStateStore store() {
    return store;
  }

  DataSource regionDb() {
    return ctx.regionDb();
  }

  @Override
  public void close() {
    thread.shutdownNow();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stopPublisher();
    durablePositions.ifPresent(DurablePositionPublisher::close);
    stopApplier();
    routes.close();
    lease.close();
  }
}
