package com.shrivenquant.cluster.region;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import com.shrivenquant.engine.instrument.InstrumentEntity;
import com.shrivenquant.engine.instrument.OrderEntry;
import com.shrivenquant.failover.region.PrimacyAgent;
import com.shrivenquant.failover.region.RegionRole;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A standby's entities do not run, so a promotion would replay every instrument's history since its
 * last snapshot on cold code. Every few seconds the standby recovers the instruments that fell
 * furthest behind their snapshot in a read-only rehearsal and stores the recovered state in its own
 * snapshot store (snapshots are not replicated: the standby rebuilds them from the replicated
 * journal). A promotion then replays only the events since, on warm code.
 */
final class StandbyRehearsal {
  private static final Logger log = LoggerFactory.getLogger(StandbyRehearsal.class);

  /** A snapshot is worth writing once this many events came after the last one. */
  private static final long MIN_EVENTS_BEHIND = 200;

  private static final int INSTRUMENTS_PER_ROUND = 4;

  private final ActorSystem<?> system;
  private final OrderEntry entry;
  private final DataSource regionDb;
  private final PrimacyAgent agent;

  StandbyRehearsal(
      ActorSystem<?> system, OrderEntry entry, DataSource regionDb, PrimacyAgent agent) {
    this.system = system;
    this.entry = entry;
    this.regionDb = regionDb;
    this.agent = agent;
  }

  void schedule(Duration every) {
    system
        .scheduler()
        .scheduleWithFixedDelay(
            Duration.ofSeconds(2), every, this::round, system.executionContext());
  }

  private void round() {
    PrimacyAgent.Status s = agent.status();
    if (s.role() != RegionRole.STANDBY || s.state().isEmpty()) return;
    List<String> symbols;
    try {
      symbols = furthestBehind();
    } catch (SQLException e) {
      log.debug("No recovery rehearsal: {}", e.getMessage());
      return;
    }
    for (String symbol : symbols) {
      InstrumentEntity.rehearseRecovery(system, entry.settings(), symbol, Duration.ofSeconds(20))
          .thenAccept(this::store)
          .exceptionally(
              e -> {
                log.warn("Rehearsal of {} failed: {}", symbol, e.toString());
                return null;
              });
    }
  }

  // Among recently written instruments, those with the most events after their last snapshot.
  private List<String> furthestBehind() throws SQLException {
    List<String> out = new ArrayList<>();
    String prefix = InstrumentEntity.TYPE_KEY.name() + "|";
    try (Connection c = regionDb.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT r.persistence_id, r.last - coalesce((SELECT max(s.sequence_number) FROM snapshot s"
                    + " WHERE s.persistence_id = r.persistence_id), 0) AS behind"
                    + " FROM (SELECT persistence_id, max(sequence_number) AS last FROM"
                    + " (SELECT persistence_id, sequence_number FROM event_journal ORDER BY ordering DESC LIMIT 20000) x"
                    + " GROUP BY persistence_id) r ORDER BY behind DESC LIMIT ?")) {
      ps.setInt(1, INSTRUMENTS_PER_ROUND);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String id = rs.getString(1);
          if (rs.getLong(2) >= MIN_EVENTS_BEHIND
              && id.startsWith(prefix)
              && entry.knows(id.substring(prefix.length()))) {
            out.add(id.substring(prefix.length()));
          }
        }
      }
    }
    return out;
  }

  private void store(InstrumentEntity.RehearsalSnapshot r) {
    // Still standby? A promotion may have started meanwhile; its own entities snapshot for
    // themselves.
    if (agent.status().role() != RegionRole.STANDBY || r.sequenceNr() == 0) return;
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(system));
    Serializer serializer = serialization.findSerializerFor(r.snapshot());
    String pid = InstrumentEntity.persistenceId(r.symbol()).id();
    try (Connection c = regionDb.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO snapshot (persistence_id, sequence_number, created, snapshot_ser_id,"
                  + " snapshot_ser_manifest, snapshot_payload) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
        ps.setString(1, pid);
        ps.setLong(2, r.sequenceNr());
        ps.setLong(3, System.currentTimeMillis());
        ps.setInt(4, serializer.identifier());
        ps.setString(5, Serializers.manifestFor(serializer, r.snapshot()));
        ps.setBytes(6, serializer.toBinary(r.snapshot()));
        ps.executeUpdate();
      }
      // Keep the newest two, as the entity's own retention does.
      try (PreparedStatement ps =
          c.prepareStatement(
              "DELETE FROM snapshot WHERE persistence_id = ? AND sequence_number < (SELECT min(sequence_number)"
                  + " FROM (SELECT sequence_number FROM snapshot WHERE persistence_id = ?"
                  + " ORDER BY sequence_number DESC LIMIT 2) k)")) {
        ps.setString(1, pid);
        ps.setString(2, pid);
        ps.executeUpdate();
      }
      c.commit();
      log.info("Standby snapshot of {} at sequence number {}", r.symbol(), r.sequenceNr());
    } catch (SQLException e) {
      log.warn("Could not store the standby snapshot of {}: {}", r.symbol(), e.getMessage());
    }
  }
}
