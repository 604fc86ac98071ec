package com.shrivenquant.failover.region;

import com.shrivenquant.replication.publish.PublisherPosition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Planned switchover on the active region: stop intake (FENCED in the current epoch), wait until
 * every journal row is published, hand the lease to the peer. Nothing is lost: the peer drains
 * everything published before it accepts. If a step fails before the handover, the region goes
 * back to ACTIVE and nothing changed.
 */
final class Switchover {
  private static final Logger log = LoggerFactory.getLogger(Switchover.class);

  private Switchover() {}

  static long run(RegionCoordinator c, String requestedBy) throws Exception {
    var settings = c.settings();
    RegionState s = c.store().load().orElseThrow(() -> new IllegalStateException("region role unknown"));
    if (s.role() != RegionRole.ACTIVE) {
      throw new IllegalStateException(settings.region() + " is " + s.role() + ", not ACTIVE: nothing to hand over");
    }
    long epoch = s.epoch();
    c.store().save(RegionRole.FENCED, epoch, "switchover to " + settings.peerRegion() + " requested by " + requestedBy);
    // Every node sees FENCED within one poll; writes that passed the gate before finish meanwhile.
    Thread.sleep(2 * settings.watcherPollInterval().toMillis() + 100);
    try {
      c.ensurePublisher(epoch);
      awaitPublished(c);
      OptionalLong handed = c.lease().handOver(settings.region(), epoch, settings.peerRegion());
      if (handed.isEmpty()) throw new IllegalStateException("the lease is no longer ours in epoch " + epoch);
      c.stopPublisher();
      log.warn("Switchover: {} handed the lease to {} in epoch {}", settings.region(), settings.peerRegion(),
          handed.getAsLong());
      return handed.getAsLong();
    } catch (Exception | Error e) {
      log.error("Switchover aborted before the handover; {} stays active", settings.region(), e);
      c.store().save(RegionRole.ACTIVE, epoch, "switchover aborted: " + e.getMessage());
      throw e;
    }
  }

  private static void awaitPublished(RegionCoordinator c) throws Exception {
    PublisherPosition position = new PublisherPosition(c.regionDb(), c.settings().region());
    long head;
    try (Connection conn = c.regionDb().getConnection();
        PreparedStatement ps = conn.prepareStatement("SELECT coalesce(max(ordering), 0) FROM event_journal");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      head = rs.getLong(1);
    }
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (position.load() < head) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("journal not published within 10 s (at " + position.load() + " of " + head + ")");
      }
      Thread.sleep(5);
    }
  }

}
