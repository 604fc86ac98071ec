package com.shrivenquant.failover.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.lease.PrimacyLease.LeaseUnavailable;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.PostgresExtension;
import com.shrivenquant.testkit.infra.TcpProxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The JDBC primacy lease on a real witness PostgreSQL: the contract ({@link PrimacyLeaseContract})
 * with the witness's clock moved by SQL, a short ttl expiring by itself, and a witness that stops
 * answering (a partition by silence) turning into {@link LeaseUnavailable} within the call timeout
 * instead of a hang.
 */
class JdbcPrimacyLeaseIT extends PrimacyLeaseContract {
  static final Duration LONG_TTL = Duration.ofSeconds(30);
  static final Duration SHORT_TTL = Duration.ofMillis(300);
  static final Duration CALL_TIMEOUT = Duration.ofMillis(500);

  @RegisterExtension
  static final PostgresExtension witness = new PostgresExtension("witness", ds -> {});

  @BeforeAll
  static void migrate() {
    JdbcPrimacyLease.migrate(jdbc(), LONG_TTL);
    // Idempotent: a second migration neither fails nor adds a row.
    JdbcPrimacyLease.migrate(jdbc(), LONG_TTL);
    assertEquals(1, witness.countRows("primacy_lease"));
  }

  @BeforeEach
  void freshLease() {
    witness.execute(
        "UPDATE primacy_lease SET holder = NULL, epoch = 0, renewed_at = clock_timestamp()");
    witness.execute("TRUNCATE primacy_lease_history");
  }

  // ---- the contract's hooks: this witness's time is moved by SQL, not waited for ----------------

  @Override
  protected JdbcPrimacyLease lease() {
    return lease(LONG_TTL);
  }

  @Override
  protected JdbcPrimacyLease racer() {
    return lease(); // its call timeout (10 s) is generous already
  }

  @Override
  protected Duration ttl() {
    return LONG_TTL;
  }

  @Override
  protected long justNowMillis() {
    return 5_000;
  }

  @Override
  protected Duration letTheLeaseAge() {
    Duration aged = Duration.ofSeconds(20);
    ageLeaseBy(aged);
    return aged;
  }

  @Override
  protected Duration renewingSpan() {
    return Duration.ZERO; // one renewal: the age it resets was moved, not waited for
  }

  @Override
  protected void expireTheHolderNow() {
    ageLeaseBy(LONG_TTL.plusSeconds(1));
  }

  @Override
  protected LeaseState letTheHolderExpire(PrimacyLease standby, long acquireStartedNanos)
      throws LeaseUnavailable {
    // No time passes here: only the witness's view of the last renewal moves 31 s into the past.
    expireTheHolderNow();
    return standby.read();
  }

  @Override
  protected void assertSeizureTimedByTheWitness(
      PrimacyLease lease, long epoch, long seizeStartedNanos) throws LeaseUnavailable {
    witness.execute(
        "UPDATE primacy_lease_history SET taken_at = taken_at - interval '7 seconds' WHERE epoch = "
            + epoch);
    assertTrue(lease.sinceSeized(epoch).orElseThrow() >= 7_000, "measured by the witness's clock");
  }

  /** holder|epoch|previous|how of every change, oldest first. */
  @Override
  protected List<String> history() throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = witness.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT name, holder, epoch, previous, how FROM primacy_lease_history ORDER BY id");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        assertEquals(JdbcPrimacyLease.LEASE_NAME, rs.getString(1));
        out.add(taken(rs.getString(2), rs.getLong(3), rs.getString(4), rs.getString(5)));
      }
    }
    return out;
  }

  @Override
  protected String taken(String holder, long epoch, String previous, String how) {
    return holder + "|" + epoch + "|" + previous + "|" + how;
  }

  // ---- this witness's own cases --------------------------------------------------------------

  @Test
  void aShortTtlExpiresByItselfOnTheWitnessClock() throws Exception {
    JdbcPrimacyLease holder = lease(SHORT_TTL);
    JdbcPrimacyLease standby = lease(SHORT_TTL);
    assertEquals(OptionalLong.of(1), holder.acquire("region-1", 0));
    LeaseState fresh = standby.read();
    assertEquals(SHORT_TTL.toMillis(), fresh.ttlMillis());

    LeaseState seen =
        Eventually.await(
            "the short-TTL lease expired",
            Duration.ofSeconds(5),
            standby::read,
            LeaseState::expired);
    assertTrue(seen.ageMillis() > SHORT_TTL.toMillis());
    assertEquals(OptionalLong.of(2), standby.acquire("region-2", 1));
    assertEquals(Optional.of("region-2"), standby.read().holder());
  }

  @Test
  void aSilentWitnessMakesReadAndRenewFailWithinTheCallTimeoutAndTheyWorkAgainAfterRestore()
      throws Exception {
    try (TcpProxy link = TcpProxy.start("witness-link", "127.0.0.1", witness.port())) {
      FailoverSettings.Jdbc viaProxy =
          new FailoverSettings.Jdbc(
              "jdbc:postgresql://127.0.0.1:" + link.port() + "/witness",
              witness.user(),
              witness.password());
      JdbcPrimacyLease lease =
          closeAfterEach(new JdbcPrimacyLease(viaProxy, LONG_TTL, CALL_TIMEOUT));
      assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
      assertTrue(lease.renew("region-1", 1));
      assertTrue(link.bytesToClient() > 0, "the lease really talks through the proxy");

      link.blackhole();
      long limit = 3 * CALL_TIMEOUT.toMillis();
      long readMillis = timeFailure(lease::read);
      long renewMillis = timeFailure(() -> lease.renew("region-1", 1));
      // The connection was abandoned: this one needs a new connection, which hangs in its login.
      long renewAgainMillis = timeFailure(() -> lease.renew("region-1", 1));
      long acquireMillis = timeFailure(() -> lease.acquire("region-2", 1));
      System.out.printf(
          "witness blackholed: read failed after %d ms, renew %d ms, renew on a new"
              + " connection %d ms, acquire %d ms (call-timeout %d ms)%n",
          readMillis, renewMillis, renewAgainMillis, acquireMillis, CALL_TIMEOUT.toMillis());
      for (long took : List.of(readMillis, renewMillis, renewAgainMillis, acquireMillis)) {
        assertTrue(took < limit, "took " + took + " ms, not < 3 x call-timeout");
        assertTrue(
            took >= CALL_TIMEOUT.toMillis() - 50,
            "silence can only be noticed by the deadline, yet it failed after " + took + " ms");
      }

      link.restore();
      long restored = System.nanoTime();
      LeaseState after = lease.read();
      System.out.printf(
          "after restore: read answered in %d ms%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restored));
      assertEquals(Optional.of("region-1"), after.holder());
      assertEquals(1, after.epoch(), "the acquire during the partition did not happen");
      assertTrue(lease.renew("region-1", 1));
    }
  }

  @Test
  void aRefusingWitnessFailsFastAndNeverReportsSuccess() throws Exception {
    try (TcpProxy link = TcpProxy.start("witness-link", "127.0.0.1", witness.port())) {
      FailoverSettings.Jdbc viaProxy =
          new FailoverSettings.Jdbc(
              "jdbc:postgresql://127.0.0.1:" + link.port() + "/witness",
              witness.user(),
              witness.password());
      JdbcPrimacyLease lease =
          closeAfterEach(new JdbcPrimacyLease(viaProxy, LONG_TTL, CALL_TIMEOUT));
      assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
      link.reset();
      long took = timeFailure(() -> lease.renew("region-1", 1));
      assertTrue(took < 3 * CALL_TIMEOUT.toMillis(), "took " + took + " ms");
      link.restore();
      assertTrue(lease.renew("region-1", 1));
    }
  }

  private JdbcPrimacyLease lease(Duration ttl) {
    return closeAfterEach(new JdbcPrimacyLease(jdbc(), ttl, Duration.ofSeconds(10)));
  }

  static FailoverSettings.Jdbc jdbc() {
    return new FailoverSettings.Jdbc(witness.jdbcUrl(), witness.user(), witness.password());
  }

  /** Moves the last renewal into the past at the witness: what elapsed witness time would do. */
  private static void ageLeaseBy(Duration d) {
    witness.execute(
        "UPDATE primacy_lease SET renewed_at = clock_timestamp() - interval '"
            + d.toMillis()
            + " milliseconds'");
  }
}
