package com.shrivenquant.failover.region;

import com.shrivenquant.replication.publish.PublisherPosition;
import java.sql.Connection;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Planned switchover on the active region: stop intake (FENCED in the current epoch), wait until
 * every journal row is published, hand the lease to the peer. Nothing is lost: the peer drains
 * everything published before it accepts. If a step fails before the handover, the region goes back
 * to ACTIVE and nothing changed.
 */
final class Switchover {
  private static final Logger log = LoggerFactory.getLogger(Switchover.class);

  private Switchover() {}

  static long run(RegionCoordinator c, String requestedBy) throws Exception {
    long requested = System.nanoTime();
    var settings = c.settings();
    RegionState s =
        c.store().load().orElseThrow(() -> new IllegalStateException("region role unknown"));
    if (s.role() != RegionRole.ACTIVE) {
      throw new IllegalStateException(
          settings.region() + " is " + s.role() + ", not ACTIVE: nothing to hand over");
    }
    long epoch = s.epoch();
    c.store()
        .save(
            RegionRole.FENCED,
            epoch,
            "switchover to " + settings.peerRegion() + " requested by " + requestedBy);
    // Every node sees FENCED within one poll; a write that passed the gate just before may still
    // commit, so the journal head must stop moving before the lease is handed over.
    Thread.sleep(settings.watcherPollInterval().toMillis() + 50);
    try {
      c.ensurePublisher(epoch);
      awaitPublished(c);
      OptionalLong handed = c.lease().handOver(settings.region(), epoch, settings.peerRegion());
      if (handed.isEmpty())
        throw new IllegalStateException("the lease is no longer ours in epoch " + epoch);
      c.stopPublisher();
      com.shrivenquant.failover.FailoverMetrics.switchoverHandedOver(
          (System.nanoTime() - requested) / 1_000_000);
      log.warn(
          "Switchover: {} handed the lease to {} in epoch {}",
          settings.region(),
          settings.peerRegion(),
          handed.getAsLong());
      return handed.getAsLong();
    } catch (Exception | Error e) {
      log.error("Switchover aborted before the handover; {} stays active", settings.region(), e);
      c.store().save(RegionRole.ACTIVE, epoch, "switchover aborted: " + e.getMessage());
      throw e;
    }
  }

  // Published up to a head that stayed put for a while: intake has really stopped.
  private static void awaitPublished(RegionCoordinator c) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    long head = head(c);
    while (true) {
      while (c.publishedUpTo() < head) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "journal not published within 10 s (at " + c.publishedUpTo() + " of " + head + ")");
        }
        Thread.sleep(5);
      }
      Thread.sleep(30);
      long again = head(c);
      if (again == head) return;
      head = again;
    }
  }

  private static long head(RegionCoordinator c) throws java.sql.SQLException {
    try (Connection conn = c.regionDb().getConnection()) {
      return PublisherPosition.journalHead(conn);
    }
  }
}
