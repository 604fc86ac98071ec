package com.shrivenquant.failover;

import akka.actor.typed.ActorSystem;
import com.shrivenquant.failover.lease.EtcdPrimacyLease;
import com.shrivenquant.failover.lease.JdbcPrimacyLease;
import com.shrivenquant.failover.lease.PrimacyLease;
import com.shrivenquant.failover.notify.IncidentNotifier;
import com.shrivenquant.failover.region.RegionStateStore;
import com.shrivenquant.failover.routing.ClientRouter;
import com.shrivenquant.failover.routing.HttpRouter;
import com.shrivenquant.failover.routing.Rfc2136Router;
import com.shrivenquant.replication.ReplicationDataSource;
import com.shrivenquant.replication.ReplicationSchema;
import com.zaxxer.hikari.HikariDataSource;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * What failover works with on a node, built in one place from its settings: the region's and the
 * peer's databases, the witness, client routing, the notifier and the engine's entity recovery. The
 * region coordinator, promotion and failback take it instead of these one by one.
 *
 * @param system the node's actor system (publisher and applier streams run in it)
 * @param peerDb the peer region's journal, read only; empty until the engine runs, or when {@code
 *     peer-journal} is not configured
 * @param leases a new client of the witness per user: each closes its own, and the node's agent
 *     never waits behind the coordinator's calls
 * @param recovery recovers entities from the journal before a promotion opens intake
 */
public record FailoverContext(
    ActorSystem<?> system,
    FailoverSettings settings,
    DataSource regionDb,
    Optional<DataSource> peerDb,
    Supplier<PrimacyLease> leases,
    ClientRouter router,
    IncidentNotifier notifier,
    EntityRecovery recovery) {

  /** The engine's side of a promotion: recover these persistence ids, answer how many. */
  @FunctionalInterface
  public interface EntityRecovery {
    EntityRecovery NONE = ids -> CompletableFuture.completedFuture(0);

    CompletionStage<Integer> recover(Set<String> persistenceIds);
  }

  /**
   * A node's context: the region database pooled and migrated, the witness migrated (jdbc) or its
   * epoch key created (etcd).
   */
  public static FailoverContext open(
      ActorSystem<?> system, FailoverSettings settings, FailoverSettings.Jdbc regionJdbc) {
    HikariDataSource regionDb =
        ReplicationDataSource.pooled(
            regionJdbc.url(), regionJdbc.user(), regionJdbc.password(), "failover");
    ReplicationSchema.migrate(regionDb);
    RegionStateStore.migrate(regionDb);
    prepareWitness(settings);
    return of(system, settings, regionDb, Optional.empty());
  }

  /**
   * Without I/O: witness clients, router and notifier from the settings; no entity recovery yet.
   */
  public static FailoverContext of(
      ActorSystem<?> system,
      FailoverSettings settings,
      DataSource regionDb,
      Optional<DataSource> peerDb) {
    return new FailoverContext(
        system,
        settings,
        regionDb,
        peerDb,
        leases(settings),
        router(settings),
        new IncidentNotifier(settings, regionDb),
        EntityRecovery.NONE);
  }

  /** The peer region's journal pool, when {@code peer-journal} is configured. */
  public static Optional<DataSource> openPeerJournal(FailoverSettings settings) {
    return settings
        .peerJournal()
        .map(
            p -> {
              HikariDataSource ds =
                  ReplicationDataSource.pooled(p.url(), p.user(), p.password(), "peer-journal");
              ds.setConnectionTimeout(
                  2000); // an unreachable peer must not hold up a promotion's report
              return ds;
            });
  }

  /** The region's role and epoch (stateless: a new one is as good as a shared one). */
  public RegionStateStore store() {
    return new RegionStateStore(regionDb, settings.region());
  }

  public FailoverContext withPeerDb(Optional<DataSource> peer) {
    return new FailoverContext(
        system, settings, regionDb, peer, leases, router, notifier, recovery);
  }

  public FailoverContext withRecovery(EntityRecovery entities) {
    return new FailoverContext(
        system, settings, regionDb, peerDb, leases, router, notifier, entities);
  }

  /** Creates what the witness of {@code lease.witness-kind} needs before the first call. */
  public static void prepareWitness(FailoverSettings s) {
    switch (s.witnessKind()) {
      case FailoverSettings.WITNESS_JDBC -> JdbcPrimacyLease.migrate(s.witness(), s.lease().ttl());
      case FailoverSettings.WITNESS_ETCD -> {
        try (EtcdPrimacyLease lease = etcdLease(s)) {
          lease.init();
        } catch (PrimacyLease.LeaseUnavailable e) {
          throw new IllegalStateException("could not create the etcd witness's epoch key", e);
        }
      }
      default -> throw new IllegalArgumentException("witness-kind: " + s.witnessKind());
    }
  }

  /** New witness clients of {@code lease.witness-kind}. */
  public static Supplier<PrimacyLease> leases(FailoverSettings s) {
    return switch (s.witnessKind()) {
      case FailoverSettings.WITNESS_JDBC ->
          () -> new JdbcPrimacyLease(s.witness(), s.lease().ttl(), s.lease().callTimeout());
      case FailoverSettings.WITNESS_ETCD -> () -> etcdLease(s);
      default -> throw new IllegalArgumentException("witness-kind: " + s.witnessKind());
    };
  }

  private static EtcdPrimacyLease etcdLease(FailoverSettings s) {
    return new EtcdPrimacyLease(s.etcdWitness(), s.lease().ttl(), s.lease().callTimeout());
  }

  private static ClientRouter router(FailoverSettings s) {
    return switch (s.routingKind()) {
      case "none" -> ClientRouter.NONE;
      case "http" -> new HttpRouter(s.routingTarget());
      case "dns" -> new Rfc2136Router(s.dns());
      default ->
          throw new IllegalArgumentException(
              "routing.kind must be none, http or dns: " + s.routingKind());
    };
  }
}
