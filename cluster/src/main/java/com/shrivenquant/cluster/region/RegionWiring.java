package com.shrivenquant.cluster.region;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import com.shrivenquant.engine.instrument.InstrumentEntity;
import com.shrivenquant.engine.instrument.IntakeGate;
import com.shrivenquant.engine.instrument.OrderEntry;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.durability.SyncAckWaiter;
import com.shrivenquant.failover.lease.JdbcPrimacyLease;
import com.shrivenquant.failover.region.PrimacyAgent;
import com.shrivenquant.failover.region.RegionCoordinator;
import com.shrivenquant.failover.region.RegionCoordinatorActor;
import com.shrivenquant.failover.region.RegionRole;
import com.shrivenquant.failover.region.RegionStateStore;
import com.shrivenquant.failover.routing.ClientRouter;
import com.shrivenquant.failover.routing.DnsRecordRouter;
import com.shrivenquant.failover.routing.HttpRouter;
import com.shrivenquant.replication.ReplicationDataSource;
import com.shrivenquant.replication.ReplicationSchema;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failover on a node: the node's {@link PrimacyAgent} (lease renewal, the intake gate), the
 * region's coordinator singleton, and what operator routes need to reach them. With failover
 * disabled (single-region dev mode) the gate is always open and there is no coordinator.
 */
public final class RegionWiring {
  private static final Logger log = LoggerFactory.getLogger(RegionWiring.class);
  // Keyed by the classic system, compared by identity: typed systems compare as their guardian's
  // path, which is the same for two nodes named alike in one JVM (in-JVM multi-region tests).
  private static final Map<akka.actor.ActorSystem, RegionWiring> BY_SYSTEM = new ConcurrentHashMap<>();

  private final FailoverSettings settings;
  private final Optional<PrimacyAgent> agent;
  private volatile Optional<ActorRef<RegionCoordinatorActor.Message>> coordinator = Optional.empty();
  private final Optional<DataSource> regionDb;
  private volatile Optional<DataSource> peerDb = Optional.empty();
  private final Optional<SyncAckWaiter> syncAcks;

  private RegionWiring(FailoverSettings settings, Optional<PrimacyAgent> agent, Optional<DataSource> regionDb) {
    this.settings = settings;
    this.agent = agent;
    this.regionDb = regionDb;
    this.syncAcks = regionDb.filter(db -> settings.durability() == FailoverSettings.Durability.SYNC)
        .map(db -> new SyncAckWaiter(db, settings.region(), java.time.Duration.ofMillis(2),
            java.time.Duration.ofSeconds(5)));
  }

  /** Present in {@code sync} durability: acks wait until durable in the standby's Kafka. */
  public Optional<SyncAckWaiter> syncAcks() {
    return syncAcks;
  }

  /** Before the engine starts: the gate the engine checks before each journal write. */
  public static RegionWiring start(ActorSystem<?> system, FailoverSettings settings,
      String jdbcUrl, String jdbcUser, String jdbcPassword) {
    RegionWiring wiring;
    if (!settings.enabled()) {
      log.warn("Failover disabled: this node accepts orders without a primacy lease (single-region mode)");
      wiring = new RegionWiring(settings, Optional.empty(), Optional.empty());
    } else {
      HikariDataSource regionDb = ReplicationDataSource.pooled(jdbcUrl, jdbcUser, jdbcPassword, "failover");
      ReplicationSchema.migrate(regionDb);
      RegionStateStore.migrate(regionDb);
      JdbcPrimacyLease.migrate(settings.witness(), settings.lease().ttl());
      PrimacyAgent agent = new PrimacyAgent(settings, lease(settings),
          new RegionStateStore(regionDb, settings.region())).start();
      wiring = new RegionWiring(settings, Optional.of(agent), Optional.of(regionDb));
    }
    BY_SYSTEM.put(system.classicSystem(), wiring);
    system.getWhenTerminated().thenRun(() -> {
      BY_SYSTEM.remove(system.classicSystem());
      wiring.agent.ifPresent(PrimacyAgent::close);
      wiring.syncAcks.ifPresent(SyncAckWaiter::close);
      // Nodes started inside one JVM (tests, drills) must not leave their connections open.
      wiring.regionDb.ifPresent(RegionWiring::close);
      wiring.peerDb.ifPresent(RegionWiring::close);
    });
    return wiring;
  }

  private static void close(DataSource db) {
    if (db instanceof HikariDataSource pool) pool.close();
  }

  public static Optional<RegionWiring> of(ActorSystem<?> system) {
    return Optional.ofNullable(BY_SYSTEM.get(system.classicSystem()));
  }

  /**
   * Once the engine runs: the region's coordinator singleton (which recovers every instrument
   * from the drained journal before a promotion lets orders in), and entities whose journal may
   * change under them (fenced, standby) are stopped.
   */
  public void startWithEngine(ActorSystem<?> system, OrderEntry entry) {
    if (agent.isEmpty()) return;
    peerDb = settings.peerJournal().map(p -> {
      HikariDataSource ds = ReplicationDataSource.pooled(p.url(), p.user(), p.password(), "peer-journal");
      ds.setConnectionTimeout(2000); // an unreachable peer must not hold up a promotion's report
      return ds;
    });
    DataSource db = regionDb.get();
    coordinator = Optional.of(RegionCoordinatorActor.init(system,
        () -> new RegionCoordinator(system, settings, db, peerDb, lease(settings), router(settings),
            persistenceIds -> recover(entry, persistenceIds))));
    stopEntitiesWhenNotActive(system, entry);
    new StandbyRehearsal(system, entry, db, agent.get()).schedule(java.time.Duration.ofSeconds(5));
  }

  private static java.util.concurrent.CompletionStage<Integer> recover(
      OrderEntry entry, java.util.Set<String> persistenceIds) {
    java.util.List<java.util.concurrent.CompletableFuture<?>> all = persistenceIds.stream()
        .filter(id -> id.startsWith(InstrumentEntity.TYPE_KEY.name() + "|"))
        .map(id -> id.substring(id.indexOf('|') + 1))
        .filter(entry::knows)
        .map(symbol -> entry.digest(symbol).toCompletableFuture()).collect(java.util.stream.Collectors.toList());
    return java.util.concurrent.CompletableFuture.allOf(all.toArray(java.util.concurrent.CompletableFuture[]::new))
        .thenApply(done -> all.size());
  }

  private void stopEntitiesWhenNotActive(ActorSystem<?> system, OrderEntry entry) {
    agent.ifPresent(a -> a.onChange(status -> {
      if (status.role() != RegionRole.ACTIVE) {
        entry.stopLocalEntities(system).thenAccept(n -> {
          if (n > 0) log.info("Stopped {} instrument entities: region is {}", n, status.role());
        });
      }
    }));
  }

  public IntakeGate gate() {
    if (agent.isEmpty()) return IntakeGate.OPEN;
    PrimacyAgent a = agent.get();
    return () -> {
      PrimacyAgent.Status s = a.status();
      return s.accepting() ? null : refusal(s);
    };
  }

  public static String refusal(PrimacyAgent.Status s) {
    String active = s.activeRegion().filter(r -> !r.equals(s.region()))
        .map(r -> "; active region: " + r).orElse("");
    return "region " + s.region() + " is not accepting orders (" + s.reason() + ")" + active;
  }

  public FailoverSettings settings() {
    return settings;
  }

  public Optional<PrimacyAgent> agent() {
    return agent;
  }

  public Optional<ActorRef<RegionCoordinatorActor.Message>> coordinator() {
    return coordinator;
  }

  public Optional<DataSource> regionDb() {
    return regionDb;
  }

  /** The peer region's journal database, read only (when {@code peer-journal} is configured). */
  public Optional<DataSource> peerDb() {
    return peerDb;
  }

  /** An operator command to the region's coordinator singleton, wherever it runs. */
  public java.util.concurrent.CompletionStage<RegionCoordinatorActor.Done> command(ActorSystem<?> system,
      akka.japi.function.Function<ActorRef<RegionCoordinatorActor.Done>, RegionCoordinatorActor.Message> message,
      java.time.Duration timeout) {
    if (coordinator.isEmpty()) {
      return java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("no region coordinator on this node yet"));
    }
    return akka.actor.typed.javadsl.AskPattern.ask(coordinator.get(), message, timeout, system.scheduler());
  }

  private static JdbcPrimacyLease lease(FailoverSettings s) {
    return new JdbcPrimacyLease(s.witness(), s.lease().ttl(), s.lease().callTimeout());
  }

  private static ClientRouter router(FailoverSettings s) {
    return switch (s.routingKind()) {
      case "none" -> ClientRouter.NONE;
      case "http" -> new HttpRouter(s.routingTarget());
      case "dns" -> new DnsRecordRouter(Path.of(s.routingTarget()), s.dnsName());
      default -> throw new IllegalArgumentException("routing.kind must be none, http or dns: " + s.routingKind());
    };
  }
}
