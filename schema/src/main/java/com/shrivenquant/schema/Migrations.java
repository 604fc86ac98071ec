package com.shrivenquant.schema;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Runs a Flyway migration so that every node may start at the same instant on a fresh database
 * (Kubernetes starts a region's pods in parallel). Flyway's own lock is taken only once its history
 * table exists: two starters could both find it missing, one create it, and the other then try to
 * baseline over it ("already exists, and is empty"). Here starters of one history table take turns,
 * holding a PostgreSQL advisory lock while they migrate.
 */
public final class Migrations {
  // First key of the two-key form: ours, so it never meets Flyway's one-key advisory locks.
  static final int LOCK_SPACE = 0x53514d47; // "SQMG"

  private Migrations() {}

  public static MigrateResult migrate(FluentConfiguration flyway) {
    DataSource db = flyway.getDataSource();
    try (Connection c = db.getConnection()) {
      // A transaction-level lock: released when this transaction ends, or with the session.
      c.setAutoCommit(false);
      try {
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(?, ?)")) {
          lock.setInt(1, LOCK_SPACE);
          lock.setInt(2, flyway.getTable().hashCode());
          lock.execute();
        }
        return flyway.load().migrate();
      } finally {
        c.rollback();
      }
    } catch (SQLException e) {
      throw new FlywayException(
          "could not lock " + flyway.getTable() + " to migrate: " + e.getMessage(), e);
    }
  }
}
