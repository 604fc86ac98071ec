package com.shrivenquant.cluster;

import com.shrivenquant.local.dev.LocalClusterLayout;
import com.shrivenquant.testkit.infra.LocalPostgres;

/** The settings every node of a two-region test needs: its region, the peer, witness and Kafka. */
public final class TwoRegionLayouts {
  private TwoRegionLayouts() {}

  /** {@code nodes} nodes of {@code region}, failover on, region-1 the first active region. */
  public static LocalClusterLayout failoverRegion(
      int nodes,
      String region,
      String peer,
      LocalPostgres.Database db,
      LocalPostgres.Database peerDb,
      LocalPostgres.Database witness,
      String kafkaBootstrap) {
    return LocalClusterLayout.allocate(
            nodes, new LocalClusterLayout.Journal(db.jdbcUrl(), db.user(), db.password()))
        .with("shrivenquant.node.region", region)
        .with("shrivenquant.failover.enabled", "true")
        .with("shrivenquant.failover.peer-region", peer)
        .with("shrivenquant.failover.initial-active-region", "region-1")
        .with("shrivenquant.failover.lease.witness.jdbc-url", witness.jdbcUrl())
        .with("shrivenquant.failover.lease.witness.user", witness.user())
        .with("shrivenquant.failover.lease.witness.password", witness.password())
        .with("shrivenquant.failover.peer-journal.jdbc-url", peerDb.jdbcUrl())
        .with("shrivenquant.failover.peer-journal.user", peerDb.user())
        .with("shrivenquant.failover.peer-journal.password", peerDb.password())
        .with("shrivenquant.failover.replication.bootstrap-servers", kafkaBootstrap)
        .with("shrivenquant.engine.synthetic-instruments.count", "2");
  }
}
