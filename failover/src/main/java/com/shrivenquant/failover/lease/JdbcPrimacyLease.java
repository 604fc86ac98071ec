package com.shrivenquant.failover.lease;

import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.schema.Migrations;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.flywaydb.core.Flyway;

/**
 * The primacy lease on a witness PostgreSQL (its own instance, reached by both regions). Expiry is
 * decided in SQL with the witness's {@code clock_timestamp()}, never with a caller's clock. Each
 * call runs on one kept connection with a hard deadline ({@code lease.call-timeout}): a call that
 * does not answer in time counts as failed and its connection is abandoned, so a partition (packets
 * silently dropped) cannot stall the caller past its fence margin.
 */
public final class JdbcPrimacyLease implements PrimacyLease {
  public static final String LEASE_NAME = "shrivenquant";
  private static final String HISTORY_TABLE = "flyway_history_witness";
  private static final String SEIZE = "seize";

  private final FailoverSettings.Jdbc witness;
  private final long ttlMillis;
  private final Duration callTimeout;
  private ExecutorService caller = newCaller();
  private Connection connection;

  public JdbcPrimacyLease(FailoverSettings.Jdbc witness, Duration ttl, Duration callTimeout) {
    this.witness = witness;
    this.ttlMillis = ttl.toMillis();
    this.callTimeout = callTimeout;
  }

  /** Creates the lease table and its row (holder none, epoch 0) if missing. */
  public static void migrate(FailoverSettings.Jdbc witness, Duration ttl) {
    Migrations.migrate(
        Flyway.configure()
            .dataSource(witness.url(), witness.user(), witness.password())
            .locations("classpath:db/migration/witness")
            .table(HISTORY_TABLE)
            .baselineOnMigrate(true)
            .baselineVersion("0"));
    try (Connection c =
            DriverManager.getConnection(witness.url(), witness.user(), witness.password());
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO primacy_lease (name, holder, epoch, renewed_at, ttl_ms)"
                    + " VALUES (?, NULL, 0, clock_timestamp(), ?) ON CONFLICT (name) DO NOTHING")) {
      ps.setString(1, LEASE_NAME);
      ps.setLong(2, ttl.toMillis());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("could not create the primacy lease row", e);
    }
  }

  @Override
  public LeaseState read() throws LeaseUnavailable {
    return call(
        "read",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT holder, epoch, (extract(epoch FROM clock_timestamp() - renewed_at) * 1000)::bigint,"
                      + " ttl_ms FROM primacy_lease WHERE name = ?")) {
            ps.setString(1, LEASE_NAME);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) throw new SQLException("no primacy lease row: witness not migrated");
              return new LeaseState(
                  Optional.ofNullable(rs.getString(1)),
                  rs.getLong(2),
                  rs.getLong(3),
                  rs.getLong(4));
            }
          }
        });
  }

  @Override
  public boolean renew(String region, long epoch) throws LeaseUnavailable {
    return call(
        "renew",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE primacy_lease SET renewed_at = clock_timestamp(), ttl_ms = ?"
                      + " WHERE name = ? AND holder = ? AND epoch = ?")) {
            ps.setLong(1, ttlMillis);
            ps.setString(2, LEASE_NAME);
            ps.setString(3, region);
            ps.setLong(4, epoch);
            return ps.executeUpdate() == 1;
          }
        });
  }

  @Override
  public OptionalLong acquire(String region, long expectedEpoch) throws LeaseUnavailable {
    return change(
        "UPDATE primacy_lease SET holder = ?, epoch = epoch + 1, renewed_at = clock_timestamp(),"
            + " ttl_ms = ? WHERE name = ? AND epoch = ? AND (holder IS NULL OR holder = ?"
            + " OR clock_timestamp() - renewed_at > ttl_ms * interval '1 millisecond')",
        "acquire",
        region,
        expectedEpoch,
        region);
  }

  @Override
  public OptionalLong handOver(String from, long epoch, String to) throws LeaseUnavailable {
    return change(
        "UPDATE primacy_lease SET holder = ?, epoch = epoch + 1, renewed_at = clock_timestamp(),"
            + " ttl_ms = ? WHERE name = ? AND epoch = ? AND holder = ?",
        "handover from " + from,
        to,
        epoch,
        from);
  }

  @Override
  public OptionalLong seize(String region, long expectedEpoch) throws LeaseUnavailable {
    return change(
        "UPDATE primacy_lease SET holder = ?, epoch = epoch + 1, renewed_at = clock_timestamp(),"
            + " ttl_ms = ? WHERE name = ? AND epoch = ? AND holder IS DISTINCT FROM ?",
        SEIZE,
        region,
        expectedEpoch,
        region);
  }

  @Override
  public OptionalLong sinceSeized(long epoch) throws LeaseUnavailable {
    return call(
        "seizure read",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT (extract(epoch FROM clock_timestamp() - taken_at) * 1000)::bigint"
                      + " FROM primacy_lease_history WHERE name = ? AND epoch = ? AND how = ?")) {
            ps.setString(1, LEASE_NAME);
            ps.setLong(2, epoch);
            ps.setString(3, SEIZE);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
            }
          }
        });
  }

  // One statement changes holder and epoch and records the change: atomic at the witness.
  private OptionalLong change(
      String update, String how, String newHolder, long expectedEpoch, String condition)
      throws LeaseUnavailable {
    return call(
        how,
        c -> {
          String sql =
              "WITH previous AS (SELECT holder FROM primacy_lease WHERE name = ?),"
                  + " changed AS ("
                  + update
                  + " RETURNING holder, epoch)"
                  + " INSERT INTO primacy_lease_history (name, holder, epoch, previous, how, taken_at)"
                  + " SELECT ?, changed.holder, changed.epoch, (SELECT holder FROM previous), ?,"
                  + " clock_timestamp() FROM changed RETURNING epoch";
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setString(i++, LEASE_NAME);
            ps.setString(i++, newHolder);
            ps.setLong(i++, ttlMillis);
            ps.setString(i++, LEASE_NAME);
            ps.setLong(i++, expectedEpoch);
            ps.setString(i++, condition);
            ps.setString(i++, LEASE_NAME);
            ps.setString(i, how);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
            }
          }
        });
  }

  private interface Call<T> {
    T run(Connection c) throws SQLException;
  }

  private synchronized <T> T call(String what, Call<T> call) throws LeaseUnavailable {
    Future<T> f = caller.submit(() -> call.run(connection()));
    try {
      return f.get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      abandon();
      throw new LeaseUnavailable("witness " + what + " took longer than " + callTimeout, e);
    } catch (ExecutionException e) {
      abandon();
      throw new LeaseUnavailable(
          "witness " + what + " failed: " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abandon();
      throw new LeaseUnavailable("interrupted during witness " + what, e);
    }
  }

  private Connection connection() throws SQLException {
    if (connection == null) {
      Properties p = new Properties();
      p.setProperty("user", witness.user());
      p.setProperty("password", witness.password());
      // Seconds: the driver's coarsest bounds; the call deadline above is the real one.
      p.setProperty("connectTimeout", "2");
      p.setProperty("socketTimeout", "5");
      p.setProperty("tcpKeepAlive", "true");
      connection = DriverManager.getConnection(witness.url(), p);
      connection.setAutoCommit(true);
    }
    return connection;
  }

  // The stuck call may still hold the old connection and thread: leave both behind.
  private void abandon() {
    Connection c = connection;
    connection = null;
    ExecutorService old = caller;
    caller = newCaller();
    old.shutdownNow();
    if (c != null) {
      try {
        c.abort(Runnable::run);
      } catch (SQLException | RuntimeException ignored) {
        // already broken
      }
    }
  }

  private static ExecutorService newCaller() {
    return Executors.newSingleThreadExecutor(
        r -> {
          Thread t = new Thread(r, "witness-call");
          t.setDaemon(true);
          return t;
        });
  }

  @Override
  public synchronized void close() {
    abandon();
    caller.shutdownNow();
  }
}
