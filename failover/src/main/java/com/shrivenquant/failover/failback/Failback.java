package com.shrivenquant.failover.failback;

import com.shrivenquant.failover.FailoverContext;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.lease.LeaseState;
import com.shrivenquant.failover.notify.Incident;
import com.shrivenquant.failover.region.RegionRole;
import com.shrivenquant.failover.region.RegionState;
import com.shrivenquant.failover.verify.ConsistencyReport;
import com.shrivenquant.failover.verify.JournalDigests;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fenced old primary becomes the new active region's standby: it reads the prefix the new active
 * region started from (its promotion record), moves every event of its own beyond that prefix into
 * {@code reconciliation_tail} (kept and reported, never dropped), removes them and any snapshot
 * that covers them from its journal, and turns STANDBY; its applier then resyncs it from the new
 * active region's topic until both journals are equal.
 */
public final class Failback {
  private static final Logger log = LoggerFactory.getLogger(Failback.class);

  private Failback() {}

  /** Empty while the new active region's promotion record is not readable yet. */
  public static Optional<Incident> run(FailoverContext ctx, RegionState fenced, LeaseState lease)
      throws Exception {
    FailoverSettings settings = ctx.settings();
    DataSource regionDb = ctx.regionDb();
    Optional<DataSource> peerDb = ctx.peerDb();
    if (peerDb.isEmpty()) return Optional.empty();
    long started = System.currentTimeMillis();
    long promotedEpoch;
    Map<String, Long> prefix = new HashMap<>();
    try (Connection peer = peerDb.get().getConnection()) {
      try (PreparedStatement ps =
          peer.prepareStatement("SELECT min(epoch) FROM promotion WHERE epoch > ?")) {
        ps.setLong(1, fenced.epoch());
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          promotedEpoch = rs.getLong(1);
          if (rs.wasNull()) return Optional.empty();
        }
      }
      try (PreparedStatement ps =
          peer.prepareStatement(
              "SELECT persistence_id, sequence_number FROM replicated_prefix WHERE epoch = ?")) {
        ps.setLong(1, promotedEpoch);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) prefix.put(rs.getString(1), rs.getLong(2));
        }
      }
    } catch (java.sql.SQLException e) {
      log.debug("Peer journal not readable yet: {}", e.getMessage());
      return Optional.empty();
    }

    List<ConsistencyReport.LostEvent> tail;
    try (Connection c = regionDb.getConnection()) {
      c.setAutoCommit(false);
      String beyond =
          " FROM event_journal j LEFT JOIN unnest(?::text[], ?::bigint[]) AS p(id, upto)"
              + " ON j.persistence_id = p.id WHERE p.upto IS NULL OR j.sequence_number > p.upto";
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO reconciliation_tail (persistence_id, sequence_number, fenced_epoch, ordering_was,"
                  + " writer, write_timestamp, event_ser_id, event_ser_manifest, event_payload)"
                  + " SELECT j.persistence_id, j.sequence_number, ?, j.ordering, j.writer, j.write_timestamp,"
                  + " j.event_ser_id, j.event_ser_manifest, j.event_payload"
                  + beyond
                  + " ON CONFLICT DO NOTHING")) {
        ps.setLong(1, fenced.epoch());
        JournalDigests.bindPrefix(ps, 2, prefix);
        ps.executeUpdate();
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT persistence_id, sequence_number, write_timestamp FROM reconciliation_tail"
                  + " WHERE fenced_epoch = ? ORDER BY persistence_id, sequence_number")) {
        ps.setLong(1, fenced.epoch());
        try (ResultSet rs = ps.executeQuery()) {
          List<ConsistencyReport.LostEvent> rows = new java.util.ArrayList<>();
          while (rs.next())
            rows.add(
                new ConsistencyReport.LostEvent(rs.getString(1), rs.getLong(2), rs.getLong(3)));
          tail = rows;
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "DELETE FROM event_tag WHERE event_id IN (SELECT j.ordering" + beyond + ")")) {
        JournalDigests.bindPrefix(ps, 1, prefix);
        ps.executeUpdate();
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "DELETE FROM event_journal WHERE ordering IN (SELECT j.ordering" + beyond + ")")) {
        JournalDigests.bindPrefix(ps, 1, prefix);
        ps.executeUpdate();
      }
      // A snapshot past the prefix contains tail state: recovery must not start from it.
      try (PreparedStatement ps =
          c.prepareStatement(
              "DELETE FROM snapshot s USING (SELECT s2.persistence_id, s2.sequence_number FROM snapshot s2"
                  + " LEFT JOIN unnest(?::text[], ?::bigint[]) AS p(id, upto) ON s2.persistence_id = p.id"
                  + " WHERE p.upto IS NULL OR s2.sequence_number > p.upto) x"
                  + " WHERE s.persistence_id = x.persistence_id AND s.sequence_number = x.sequence_number")) {
        JournalDigests.bindPrefix(ps, 1, prefix);
        ps.executeUpdate();
      }
      c.commit();
    }
    ctx.store()
        .save(
            RegionRole.STANDBY,
            lease.epoch(),
            "failback: "
                + tail.size()
                + " unreplicated events of epoch "
                + fenced.epoch()
                + " set aside; resyncing from "
                + lease.holder().orElse("?"));
    long now = System.currentTimeMillis();
    Map<String, Object> evidence = new LinkedHashMap<>();
    evidence.put("promotionEpoch", promotedEpoch);
    evidence.put("setAside", tail.size() > 200 ? tail.subList(0, 200) : tail);
    Incident incident =
        new Incident(
            "failback",
            settings.region(),
            lease.holder().orElse("?"),
            fenced.epoch(),
            lease.epoch(),
            started,
            evidence,
            List.of(new Incident.Step("tail-set-aside", now, now - started)),
            "unchanged",
            tail.isEmpty()
                ? ConsistencyReport.Verdict.CONSISTENT
                : ConsistencyReport.Verdict.EVENTS_LOST,
            tail.size(),
            settings.region()
                + " fenced in epoch "
                + fenced.epoch()
                + " is now standby in epoch "
                + lease.epoch()
                + "; "
                + tail.size()
                + " unreplicated events set aside for reconciliation");
    ctx.notifier().notify(incident);
    log.warn("{}", incident.summary());
    return Optional.of(incident);
  }
}
