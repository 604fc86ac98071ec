package com.shrivenquant.replication;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/**
 * A small connection pool for the publisher and the applier: each poll and each applied batch
 * otherwise opens a new PostgreSQL connection, whose authentication alone costs milliseconds
 * (measured: it dominated replication lag).
 */
public final class ReplicationDataSource {
  private ReplicationDataSource() {}

  public static HikariDataSource pooled(String jdbcUrl, String user, String password, String name) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(jdbcUrl);
    c.setUsername(user);
    c.setPassword(password);
    c.setPoolName(name);
    // One connection stays with the publisher's LISTEN for journal commits.
    c.setMaximumPoolSize(6);
    c.setMinimumIdle(2);
    // A restarted database must not leave the pool waiting long for dead connections.
    c.setConnectionTimeout(5_000);
    c.setValidationTimeout(2_000);
    return new HikariDataSource(c);
  }
}
