package com.shrivenquant.failover.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The JDBC primacy lease on a real witness PostgreSQL: compare-and-set epochs, expiry by the
 * witness's clock only, the history of every change, a race for an expired lease, and a witness
 * that stops answering (a partition by silence) turning into {@link LeaseUnavailable} within the
 * call timeout instead of a hang.
 */
class JdbcPrimacyLeaseIT {
  static final Duration LONG_TTL = Duration.ofSeconds(30);
  static final Duration SHORT_TTL = Duration.ofMillis(300);
  static final Duration CALL_TIMEOUT = Duration.ofMillis(500);

  @RegisterExtension
  static final PostgresExtension witness = new PostgresExtension("witness", ds -> {});

  private final List<JdbcPrimacyLease> opened = new ArrayList<>();

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

  @AfterEach
  void closeLeases() {
    opened.forEach(JdbcPrimacyLease::close);
    opened.clear();
  }

  @Test
  void theFirstAcquireFromEpochZeroGivesEpochOne() throws Exception {
    JdbcPrimacyLease lease = lease(LONG_TTL);
    LeaseState before = lease.read();
    assertEquals(Optional.empty(), before.holder());
    assertEquals(0, before.epoch());
    assertTrue(before.expired(), "nobody holds it: free");

    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    LeaseState after = lease.read();
    assertEquals(Optional.of("region-1"), after.holder());
    assertEquals(1, after.epoch());
    assertEquals(LONG_TTL.toMillis(), after.ttlMillis());
    assertFalse(after.expired());
    assertTrue(after.heldBy("region-1"));
    assertFalse(after.heldBy("region-2"));
  }

  @Test
  void renewSucceedsOnlyForTheHolderAtItsEpoch() throws Exception {
    JdbcPrimacyLease lease = lease(LONG_TTL);
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    ageLeaseBy(Duration.ofSeconds(20));
    long agedMillis = lease.read().ageMillis();
    assertTrue(agedMillis >= 20_000, "aged by SQL: " + agedMillis);

    assertFalse(lease.renew("region-2", 1), "wrong region");
    assertFalse(lease.renew("region-1", 0), "older epoch");
    assertFalse(lease.renew("region-1", 2), "newer epoch");
    assertTrue(lease.read().ageMillis() >= 20_000, "refused renewals must not touch renewed_at");

    assertTrue(lease.renew("region-1", 1));
    LeaseState renewed = lease.read();
    assertTrue(renewed.ageMillis() < 5_000, "renewal resets the age: " + renewed.ageMillis());
    assertEquals(1, renewed.epoch(), "renewal keeps the epoch");
    assertEquals(Optional.of("region-1"), renewed.holder());
    assertEquals(1, history().size(), "renewals are not changes of holder or epoch");
  }

  @Test
  void anotherRegionIsRefusedWhileTheLeaseIsFreshAndTakesItOnceExpiredByTheWitnessClock()
      throws Exception {
    JdbcPrimacyLease holder = lease(LONG_TTL);
    JdbcPrimacyLease standby = lease(LONG_TTL);
    assertEquals(OptionalLong.of(1), holder.acquire("region-1", 0));

    assertEquals(OptionalLong.empty(), standby.acquire("region-2", 1), "fresh lease of region-1");
    assertEquals(Optional.of("region-1"), standby.read().holder());

    // No time passes here: only the witness's view of the last renewal moves 31 s into the past.
    ageLeaseBy(LONG_TTL.plusSeconds(1));
    assertTrue(standby.read().expired());
    assertEquals(OptionalLong.of(2), standby.acquire("region-2", 1));
    LeaseState taken = standby.read();
    assertEquals(Optional.of("region-2"), taken.holder());
    assertEquals(2, taken.epoch());
    assertFalse(taken.expired());
    assertFalse(holder.renew("region-1", 1), "the old holder lost it");
  }

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
  void theHolderMayReacquireItsOwnFreshLeaseWithTheNextEpoch() throws Exception {
    JdbcPrimacyLease lease = lease(LONG_TTL);
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    assertEquals(OptionalLong.of(2), lease.acquire("region-1", 1));
    assertEquals(2, lease.read().epoch());
  }

  @Test
  void anAcquireWithAStaleExpectedEpochIsRefused() throws Exception {
    JdbcPrimacyLease lease = lease(LONG_TTL);
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    ageLeaseBy(LONG_TTL.plusSeconds(1));

    assertEquals(OptionalLong.empty(), lease.acquire("region-2", 0), "epoch moved on to 1");
    assertEquals(OptionalLong.empty(), lease.acquire("region-2", 5), "epoch 5 never existed");
    LeaseState unchanged = lease.read();
    assertEquals(Optional.of("region-1"), unchanged.holder());
    assertEquals(1, unchanged.epoch());
    assertEquals(OptionalLong.of(2), lease.acquire("region-2", 1));
  }

  @Test
  void handOverMovesHolderAndEpochOnlyFromTheHolderAtItsEpoch() throws Exception {
    JdbcPrimacyLease lease = lease(LONG_TTL);
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));

    assertEquals(OptionalLong.empty(), lease.handOver("region-2", 1, "region-2"), "not the holder");
    assertEquals(OptionalLong.empty(), lease.handOver("region-2", 1, "region-1"), "not the holder");
    assertEquals(OptionalLong.empty(), lease.handOver("region-1", 0, "region-2"), "older epoch");
    assertEquals(OptionalLong.empty(), lease.handOver("region-1", 2, "region-2"), "newer epoch");
    assertEquals(Optional.of("region-1"), lease.read().holder());
    assertEquals(1, lease.read().epoch());

    ageLeaseBy(Duration.ofSeconds(10));
    assertEquals(OptionalLong.of(2), lease.handOver("region-1", 1, "region-2"));
    LeaseState handed = lease.read();
    assertEquals(Optional.of("region-2"), handed.holder());
    assertEquals(2, handed.epoch());
    assertTrue(
        handed.ageMillis() < 5_000,
        "the new holder starts with a fresh lease: " + handed.ageMillis());
    assertFalse(lease.renew("region-1", 1));
    assertFalse(lease.renew("region-1", 2));
    assertTrue(lease.renew("region-2", 2));
    assertEquals(
        OptionalLong.empty(), lease.handOver("region-1", 1, "region-2"), "no longer the holder");
  }

  @Test
  void seizeTakesAFreshLeaseFromItsHolderOnlyAtTheExpectedEpochAndIsTimedAtTheWitness()
      throws Exception {
    JdbcPrimacyLease lease = lease(LONG_TTL);
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    assertEquals(OptionalLong.empty(), lease.acquire("region-2", 1), "fresh: acquire refuses");
    assertEquals(OptionalLong.empty(), lease.sinceSeized(1), "epoch 1 was acquired, not seized");

    assertEquals(OptionalLong.empty(), lease.seize("region-2", 0), "stale expected epoch");
    assertEquals(
        OptionalLong.empty(), lease.seize("region-1", 1), "the holder cannot seize its own lease");
    assertEquals(OptionalLong.of(2), lease.seize("region-2", 1));
    LeaseState seized = lease.read();
    assertEquals(Optional.of("region-2"), seized.holder());
    assertEquals(2, seized.epoch());
    assertFalse(lease.renew("region-1", 1), "the old holder's renewals fail from now on");
    assertTrue(lease.renew("region-2", 2));

    long since = lease.sinceSeized(2).orElseThrow();
    assertTrue(since >= 0 && since < 5_000, "just seized: " + since);
    witness.execute(
        "UPDATE primacy_lease_history SET taken_at = taken_at - interval '7 seconds' WHERE epoch = 2");
    assertTrue(lease.sinceSeized(2).orElseThrow() >= 7_000, "measured by the witness's clock");
    assertEquals(List.of("region-1|1|null|acquire", "region-2|2|region-1|seize"), history());
  }

  @Test
  void everyChangeAndOnlyChangesAppearInTheHistory() throws Exception {
    JdbcPrimacyLease lease = lease(LONG_TTL);
    lease.acquire("region-1", 0);
    lease.acquire("region-2", 1); // refused: fresh
    lease.renew("region-1", 1);
    lease.handOver("region-1", 1, "region-2");
    lease.handOver("region-1", 2, "region-1"); // refused: not the holder
    ageLeaseBy(LONG_TTL.plusSeconds(1));
    lease.acquire("region-1", 2);

    assertEquals(
        List.of(
            "region-1|1|null|acquire",
            "region-2|2|region-1|handover from region-1",
            "region-1|3|region-2|acquire"),
        history());
  }

  @Test
  void ofManyRegionsRacingForTheSameExpiredLeaseExactlyOneWins() throws Exception {
    int racers = 8;
    List<JdbcPrimacyLease> leases = new ArrayList<>();
    for (int i = 0; i < racers; i++) leases.add(lease(LONG_TTL));
    // Each racer's connection is open before the start, so the statements really overlap.
    for (JdbcPrimacyLease l : leases) l.read();
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    try {
      long epoch = 0;
      for (int round = 1; round <= 10; round++) {
        CyclicBarrier start = new CyclicBarrier(racers);
        long expected = epoch;
        List<Future<OptionalLong>> results = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
          JdbcPrimacyLease l = leases.get(i);
          String region = "racer-" + i;
          results.add(
              pool.submit(
                  () -> {
                    start.await(10, TimeUnit.SECONDS);
                    return l.acquire(region, expected);
                  }));
        }
        List<Integer> winners = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
          OptionalLong got = results.get(i).get(30, TimeUnit.SECONDS);
          if (got.isPresent()) {
            assertEquals(expected + 1, got.getAsLong());
            winners.add(i);
          }
        }
        assertEquals(1, winners.size(), "round " + round + ": winners " + winners);
        LeaseState now = leases.get(0).read();
        assertEquals(Optional.of("racer-" + winners.get(0)), now.holder());
        assertEquals(expected + 1, now.epoch());
        assertEquals(round, history().size(), "one history row per round");
        epoch = expected + 1;
        ageLeaseBy(LONG_TTL.plusSeconds(1)); // the winner "dies": the next round races again
      }
    } finally {
      pool.shutdownNow();
    }
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
      JdbcPrimacyLease lease = new JdbcPrimacyLease(viaProxy, LONG_TTL, CALL_TIMEOUT);
      opened.add(lease);
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
      JdbcPrimacyLease lease = new JdbcPrimacyLease(viaProxy, LONG_TTL, CALL_TIMEOUT);
      opened.add(lease);
      assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
      link.reset();
      long took = timeFailure(() -> lease.renew("region-1", 1));
      assertTrue(took < 3 * CALL_TIMEOUT.toMillis(), "took " + took + " ms");
      link.restore();
      assertTrue(lease.renew("region-1", 1));
    }
  }

  private interface LeaseCall {
    Object run() throws LeaseUnavailable;
  }

  private static long timeFailure(LeaseCall call) {
    long t0 = System.nanoTime();
    assertThrows(LeaseUnavailable.class, call::run);
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  private JdbcPrimacyLease lease(Duration ttl) {
    JdbcPrimacyLease lease = new JdbcPrimacyLease(jdbc(), ttl, Duration.ofSeconds(10));
    opened.add(lease);
    return lease;
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

  private static List<String> history() throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = witness.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT name, holder, epoch, previous, how FROM primacy_lease_history ORDER BY id");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        assertEquals(JdbcPrimacyLease.LEASE_NAME, rs.getString(1));
        out.add(
            rs.getString(2) + "|" + rs.getLong(3) + "|" + rs.getString(4) + "|" + rs.getString(5));
      }
    }
    return out;
  }
}
