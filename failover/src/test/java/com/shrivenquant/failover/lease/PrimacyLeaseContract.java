package com.shrivenquant.failover.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.failover.lease.PrimacyLease.LeaseUnavailable;
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
import org.junit.jupiter.api.Test;

/**
 * The {@link PrimacyLease} contract, case by case, for every witness: compare-and-set epochs,
 * renewal only by the holder at its epoch, expiry judged by the witness, hand-over, seizure timed
 * by the witness, a history of every change and of nothing else, and exactly one winner of a race.
 * An IT per witness extends it with a real witness and what only that witness has; the hooks below
 * are what differs between witnesses: how a client is made, how the witness comes to see the lease
 * expired or aged, and how its history is read.
 */
abstract class PrimacyLeaseContract {
  private final List<PrimacyLease> opened = new ArrayList<>();

  // ---- hooks ---------------------------------------------------------------------------------

  /** A client of a fresh lease (each case starts at epoch 0, nobody holding it). */
  protected abstract PrimacyLease lease();

  /** A client with a call timeout generous enough for eight of them racing at once. */
  protected abstract PrimacyLease racer();

  /** The ttl {@link #lease()}'s clients are made with. */
  protected abstract Duration ttl();

  /** The most a lease can have aged, by the witness, and still count as renewed just now. */
  protected abstract long justNowMillis();

  /**
   * Lets the held lease age by some part of its ttl, as the witness sees it, and says by how much:
   * at least that age must be read back until the next renewal.
   */
  protected abstract Duration letTheLeaseAge() throws Exception;

  /** How long renewals go on; a witness whose time is real keeps the lease past several ttls. */
  protected abstract Duration renewingSpan();

  /** Brings about the holder's expiry at the witness at once, as its death would later. */
  protected abstract void expireTheHolderNow() throws Exception;

  /**
   * The holder (which acquired when {@code acquireStartedNanos} was read) stops renewing: returns
   * the first state {@code standby} reads as expired.
   */
  protected abstract LeaseState letTheHolderExpire(PrimacyLease standby, long acquireStartedNanos)
      throws Exception;

  /**
   * {@link PrimacyLease#sinceSeized} of {@code epoch}, just seized (the call began at {@code
   * seizeStartedNanos}), counts by the witness's clock, up to the ttl.
   */
  protected abstract void assertSeizureTimedByTheWitness(
      PrimacyLease lease, long epoch, long seizeStartedNanos) throws Exception;

  /** Every epoch taken, oldest first, each as {@link #taken} formats it. */
  protected abstract List<String> history() throws Exception;

  /** One history entry; a witness that does not record {@code previous} leaves it out. */
  protected abstract String taken(String holder, long epoch, String previous, String how);

  // ---- the contract --------------------------------------------------------------------------

  @Test
  void theFirstAcquireFromEpochZeroGivesEpochOne() throws Exception {
    PrimacyLease lease = lease();
    LeaseState before = lease.read();
    assertEquals(Optional.empty(), before.holder());
    assertEquals(0, before.epoch());
    assertTrue(before.expired(), "nobody holds it: free");

    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    LeaseState after = lease.read();
    assertEquals(Optional.of("region-1"), after.holder());
    assertEquals(1, after.epoch());
    assertEquals(ttl().toMillis(), after.ttlMillis());
    assertFalse(after.expired());
    assertTrue(after.heldBy("region-1"));
    assertFalse(after.heldBy("region-2"));
  }

  @Test
  void renewSucceedsOnlyForTheHolderAtItsEpoch() throws Exception {
    PrimacyLease lease = lease();
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    long aged = letTheLeaseAge().toMillis();
    long agedMillis = lease.read().ageMillis();
    assertTrue(agedMillis >= aged, "aged by " + aged + " ms, yet reads " + agedMillis);

    assertFalse(lease.renew("region-2", 1), "wrong region");
    assertFalse(lease.renew("region-1", 0), "older epoch");
    assertFalse(lease.renew("region-1", 2), "newer epoch");
    assertTrue(lease.read().ageMillis() >= aged, "refused renewals must not renew");

    long end = System.nanoTime() + renewingSpan().toNanos();
    while (true) {
      assertTrue(lease.renew("region-1", 1));
      if (System.nanoTime() >= end) break;
      Thread.sleep(200);
    }
    LeaseState renewed = lease.read();
    assertFalse(renewed.expired(), "renewed: " + renewed);
    assertTrue(renewed.ageMillis() < justNowMillis(), "renewal resets the age: " + renewed);
    assertEquals(1, renewed.epoch(), "renewal keeps the epoch");
    assertEquals(Optional.of("region-1"), renewed.holder());
    assertEquals(
        List.of(taken("region-1", 1, null, "acquire")),
        history(),
        "renewals are not changes of holder or epoch");
  }

  @Test
  void anotherRegionIsRefusedWhileTheLeaseIsFreshAndTakesItOnceTheWitnessExpiredIt()
      throws Exception {
    PrimacyLease holder = lease();
    PrimacyLease standby = lease();
    long t0 = System.nanoTime();
    assertEquals(OptionalLong.of(1), holder.acquire("region-1", 0));
    assertEquals(OptionalLong.empty(), standby.acquire("region-2", 1), "fresh lease of region-1");
    assertEquals(Optional.of("region-1"), standby.read().holder());

    LeaseState seen = letTheHolderExpire(standby, t0);
    assertTrue(seen.expired(), "expired: " + seen);
    assertEquals(Optional.of("region-1"), seen.holder(), "the last holder is still named");
    assertEquals(OptionalLong.of(2), standby.acquire("region-2", 1));
    LeaseState taken = standby.read();
    assertEquals(Optional.of("region-2"), taken.holder());
    assertEquals(2, taken.epoch());
    assertFalse(taken.expired());
    assertFalse(holder.renew("region-1", 1), "the old holder lost it");
  }

  @Test
  void theHolderMayReacquireItsOwnFreshLeaseWithTheNextEpoch() throws Exception {
    PrimacyLease lease = lease();
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    assertEquals(OptionalLong.of(2), lease.acquire("region-1", 1));
    assertEquals(2, lease.read().epoch());
    assertFalse(lease.renew("region-1", 1), "the old epoch is over");
    assertTrue(lease.renew("region-1", 2));
  }

  @Test
  void anAcquireWithAStaleExpectedEpochIsRefused() throws Exception {
    PrimacyLease lease = lease();
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    expireTheHolderNow();
    assertTrue(lease.read().expired());

    assertEquals(OptionalLong.empty(), lease.acquire("region-2", 0), "epoch moved on to 1");
    assertEquals(OptionalLong.empty(), lease.acquire("region-2", 5), "epoch 5 never existed");
    LeaseState unchanged = lease.read();
    assertEquals(Optional.of("region-1"), unchanged.holder());
    assertEquals(1, unchanged.epoch());
    assertEquals(OptionalLong.of(2), lease.acquire("region-2", 1));
  }

  @Test
  void handOverMovesHolderAndEpochOnlyFromTheHolderAtItsEpoch() throws Exception {
    PrimacyLease lease = lease();
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));

    assertEquals(OptionalLong.empty(), lease.handOver("region-2", 1, "region-2"), "not the holder");
    assertEquals(OptionalLong.empty(), lease.handOver("region-2", 1, "region-1"), "not the holder");
    assertEquals(OptionalLong.empty(), lease.handOver("region-1", 0, "region-2"), "older epoch");
    assertEquals(OptionalLong.empty(), lease.handOver("region-1", 2, "region-2"), "newer epoch");
    assertEquals(Optional.of("region-1"), lease.read().holder());
    assertEquals(1, lease.read().epoch());

    letTheLeaseAge();
    assertEquals(OptionalLong.of(2), lease.handOver("region-1", 1, "region-2"));
    LeaseState handed = lease.read();
    assertEquals(Optional.of("region-2"), handed.holder());
    assertEquals(2, handed.epoch());
    assertFalse(handed.expired());
    assertTrue(
        handed.ageMillis() < justNowMillis(),
        "the new holder starts with a fresh lease: " + handed.ageMillis());
    assertFalse(lease.renew("region-1", 1));
    assertFalse(lease.renew("region-1", 2));
    assertTrue(lease.renew("region-2", 2));
    assertEquals(
        OptionalLong.empty(), lease.handOver("region-1", 1, "region-2"), "no longer the holder");
  }

  @Test
  void seizeTakesAFreshLeaseFromItsHolderOnlyAtTheExpectedEpochAndIsTimedByTheWitness()
      throws Exception {
    PrimacyLease lease = lease();
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    assertEquals(OptionalLong.empty(), lease.acquire("region-2", 1), "fresh: acquire refuses");
    assertEquals(OptionalLong.empty(), lease.sinceSeized(1), "epoch 1 was acquired, not seized");

    assertEquals(OptionalLong.empty(), lease.seize("region-2", 0), "stale expected epoch");
    assertEquals(
        OptionalLong.empty(), lease.seize("region-1", 1), "the holder cannot seize its own lease");
    long seizeStarted = System.nanoTime();
    assertEquals(OptionalLong.of(2), lease.seize("region-2", 1));
    LeaseState seized = lease.read();
    assertEquals(Optional.of("region-2"), seized.holder());
    assertEquals(2, seized.epoch());
    assertFalse(lease.renew("region-1", 1), "the old holder's renewals fail from now on");
    assertTrue(lease.renew("region-2", 2));

    long since = lease.sinceSeized(2).orElseThrow();
    assertTrue(since >= 0 && since < justNowMillis(), "just seized: " + since);
    assertSeizureTimedByTheWitness(lease, 2, seizeStarted);
    assertEquals(
        List.of(taken("region-1", 1, null, "acquire"), taken("region-2", 2, "region-1", "seize")),
        history());
  }

  @Test
  void everyChangeAndOnlyChangesAppearInTheHistory() throws Exception {
    PrimacyLease lease = lease();
    lease.acquire("region-1", 0);
    lease.acquire("region-2", 1); // refused: fresh
    lease.renew("region-1", 1);
    lease.handOver("region-1", 1, "region-2");
    lease.handOver("region-1", 2, "region-1"); // refused: not the holder
    expireTheHolderNow();
    lease.acquire("region-1", 2);

    assertEquals(
        List.of(
            taken("region-1", 1, null, "acquire"),
            taken("region-2", 2, "region-1", "handover from region-1"),
            taken("region-1", 3, "region-2", "acquire")),
        history());
  }

  @Test
  void ofManyRegionsRacingForTheSameFreeOrExpiredLeaseExactlyOneWins() throws Exception {
    int racers = 8;
    List<PrimacyLease> leases = new ArrayList<>();
    for (int i = 0; i < racers; i++) leases.add(racer());
    // Each racer's connection is open before the start, so the calls really overlap.
    for (PrimacyLease l : leases) l.read();
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    try {
      long epoch = 0;
      for (int round = 1; round <= 10; round++) {
        CyclicBarrier start = new CyclicBarrier(racers);
        long expected = epoch;
        List<Future<OptionalLong>> results = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
          PrimacyLease l = leases.get(i);
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
        assertEquals(round, history().size(), "one history entry per round");
        epoch = expected + 1;
        expireTheHolderNow(); // the winner "dies": the next round races again
      }
    } finally {
      pool.shutdownNow();
    }
  }

  // ---- for the witnesses' own cases ------------------------------------------------------------

  /** Closes {@code lease} after the case. */
  protected <L extends PrimacyLease> L closeAfterEach(L lease) {
    opened.add(lease);
    return lease;
  }

  @AfterEach
  void closeLeases() {
    opened.forEach(PrimacyLease::close);
    opened.clear();
  }

  protected interface LeaseCall {
    Object run() throws Exception;
  }

  /** How long {@code call} took to fail with {@link LeaseUnavailable} (ms). */
  protected static long timeFailure(LeaseCall call) {
    long t0 = System.nanoTime();
    assertThrows(LeaseUnavailable.class, call::run);
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }
}
