package com.shrivenquant.failover.region;

import com.shrivenquant.schema.Migrations;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.OptionalLong;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The region's role and epoch in its own database: how every node of the region knows it, and what
 * a restarted region remembers (a returning old primary finds ACTIVE at an old epoch and fences
 * itself).
 */
public final class RegionStateStore {
  private final DataSource db;
  private final String region;

  public RegionStateStore(DataSource db, String region) {
    this.db = db;
    this.region = region;
  }

  /** Failover's tables in the region database (region state, incidents, reports, tail, audit). */
  public static void migrate(DataSource db) {
    Migrations.migrate(
        Flyway.configure()
            .dataSource(db)
            .locations("classpath:db/migration/failover")
            .table("flyway_history_failover")
            .baselineOnMigrate(true)
            .baselineVersion("0"));
  }

  public Optional<RegionState> load() throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT role, epoch, reason FROM region_state WHERE region = ?")) {
      ps.setString(1, region);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) return Optional.empty();
        return Optional.of(
            new RegionState(
                region, RegionRole.valueOf(rs.getString(1)), rs.getLong(2), rs.getString(3)));
      }
    }
  }

  /** Writes the new state unless it would move the epoch backwards. */
  public boolean save(RegionRole role, long epoch, String reason) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO region_state (region, role, epoch, reason, updated_at)"
                    + " VALUES (?, ?, ?, ?, clock_timestamp()) ON CONFLICT (region) DO UPDATE"
                    + " SET role = excluded.role, epoch = excluded.epoch, reason = excluded.reason,"
                    + " updated_at = excluded.updated_at WHERE region_state.epoch <= excluded.epoch")) {
      ps.setString(1, region);
      ps.setString(2, role.name());
      ps.setLong(3, epoch);
      ps.setString(4, reason);
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * When the oldest journal row past {@code publishedUpTo} was written (ms since the Unix epoch):
   * how long the publish stage lags. Empty when there is none.
   */
  public OptionalLong oldestUnpublishedWrittenAt(long publishedUpTo) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement q =
            c.prepareStatement(
                "SELECT min(write_timestamp) FROM event_journal WHERE ordering > ?")) {
      q.setLong(1, publishedUpTo);
      try (ResultSet rs = q.executeQuery()) {
        return rs.next() && rs.getLong(1) > 0
            ? OptionalLong.of(rs.getLong(1))
            : OptionalLong.empty();
      }
    }
  }
}
