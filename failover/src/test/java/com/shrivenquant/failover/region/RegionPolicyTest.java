package com.shrivenquant.failover.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.failover.lease.LeaseState;
import com.shrivenquant.failover.region.RegionPolicy.Bootstrap;
import com.shrivenquant.failover.region.RegionPolicy.BootstrapKind;
import com.shrivenquant.failover.region.RegionPolicy.Decision;
import com.shrivenquant.failover.region.RegionPolicy.Fence;
import com.shrivenquant.failover.region.RegionPolicy.FollowEpoch;
import com.shrivenquant.failover.region.RegionPolicy.Promote;
import com.shrivenquant.failover.region.RegionPolicy.PromoteKind;
import com.shrivenquant.failover.region.RegionPolicy.RunApplier;
import com.shrivenquant.failover.region.RegionPolicy.RunPublisher;
import com.shrivenquant.failover.region.RegionPolicy.StartFailback;
import com.shrivenquant.failover.region.RegionPolicy.Wait;
import com.shrivenquant.failover.region.RegionPolicy.WaitReason;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * One test per rule of failover/model/primacy.pml that concerns the coordinator's role decision
 * (named after the model's case; the comment cites the pml line or README section), plus the code's
 * cases the model abstracts (bootstrap, seize, handover, epoch following).
 */
class RegionPolicyTest {
  // reference.conf: lease.ttl 2000 ms (pml:26 TTL 20 ticks), watcher.pause-budget 1500 ms (pml:29).
  static final long TTL = 2000;
  static final long PAUSE = 1500;
  static final String R1 = "region-1";
  static final String R2 = "region-2";

  // region-1 is the initially active region (pml:99, pml:438); each policy is one region's.
  static final RegionPolicy REGION_1 = new RegionPolicy(R1, R1, PAUSE, TTL);
  static final RegionPolicy REGION_2 = new RegionPolicy(R2, R1, PAUSE, TTL);

  static LeaseState lease(String holder, long epoch, long ageMillis) {
    return new LeaseState(Optional.ofNullable(holder), epoch, ageMillis, TTL);
  }

  static Optional<RegionState> state(String region, RegionRole role, long epoch) {
    return Optional.of(new RegionState(region, role, epoch, "test"));
  }

  static Decision decide(RegionPolicy p, Optional<RegionState> s, LeaseState l) {
    return p.decide(new RegionPolicy.Inputs(s, l, OptionalLong.empty()));
  }

  static Decision decide(RegionPolicy p, Optional<RegionState> s, LeaseState l, long sinceSeized) {
    return p.decide(new RegionPolicy.Inputs(s, l, OptionalLong.of(sinceSeized)));
  }

  // ---- the active region

  @Test
  void renewable_activeHolderKeepsPublishing() {
    // pml:197 RENEWABLE: holder == region && epoch == e, so the region stays ACTIVE in e.
    assertEquals(
        new RunPublisher(1), decide(REGION_1, state(R1, RegionRole.ACTIVE, 1), lease(R1, 1, 300)));
  }

  @Test
  void renewable_evenAfterExpiry_activeHolderKeepsPublishing() {
    // pml:196 "succeeds iff holder == region && epoch == e (even if expired)": the nodes fence on
    // their margin, not the coordinator.
    assertEquals(
        new RunPublisher(1),
        decide(REGION_1, state(R1, RegionRole.ACTIVE, 1), lease(R1, 1, TTL + 500)));
  }

  @Test
  void renewFails_leaseTakenByPeer_activeFences() {
    // pml:220 S_FAIL fences the node, pml:274 CAN_FENCE makes the region FENCED (in its own epoch).
    Decision d = decide(REGION_1, state(R1, RegionRole.ACTIVE, 1), lease(R2, 2, 100));
    assertEquals(new Fence(1, "region-2 holds the lease in epoch 2"), d);
  }

  @Test
  void renewFails_staleEpoch_activeFences() {
    // pml:197 RENEWABLE needs epoch == sEp: a lease in another epoch, even this region's, fences.
    Decision d = decide(REGION_1, state(R1, RegionRole.ACTIVE, 1), lease(R1, 3, 100));
    assertEquals(new Fence(1, "region-1 holds the lease in epoch 3"), d);
  }

  // ---- the standby region: watcher and acquire

  @Test
  void canPoll_freshLease_standbyKeepsApplying() {
    // pml:245 CAN_POLL needs wAge >= EXP_MAY (the lease may have expired): a fresh lease is never
    // taken.
    assertEquals(
        new RunApplier(), decide(REGION_2, state(R2, RegionRole.STANDBY, 1), lease(R1, 1, 200)));
  }

  @Test
  void acqYes_afterExpiry_standbyPromotesTakingEpochPlusOne() {
    // pml:250 ACQ_OK (expired) and pml:254 acqYes: epoch = wE + 1.
    Decision d = decide(REGION_2, state(R2, RegionRole.STANDBY, 1), lease(R1, 1, TTL + 1));
    assertEquals(new Promote(PromoteKind.PROMOTION, 2), d);
    assertFalse(((Promote) d).handedOver(), "a promotion acquires the lease itself");
  }

  @Test
  void pause_stallShorterThanPauseBudget_noPromotion() {
    // pml:476-479 noFalseFailover (-DPAUSE): a stall below pause-budget never lets the standby take
    // the lease.
    assertEquals(
        new RunApplier(),
        decide(REGION_2, state(R2, RegionRole.STANDBY, 1), lease(R1, 1, PAUSE - 1)));
    // Also when the witness already calls it expired (a lease written with a shorter ttl).
    LeaseState shortTtl = new LeaseState(Optional.of(R1), 1, PAUSE - 1, PAUSE / 2);
    assertEquals(new RunApplier(), decide(REGION_2, state(R2, RegionRole.STANDBY, 1), shortTtl));
  }

  @Test
  void expMay_pastPauseButNotExpiredAtWitness_noPromotion() {
    // pml:61 EXP_MAY, pml:250 ACQ_OK: only the witness's "expired" counts, the pause budget alone
    // does not.
    assertEquals(
        new RunApplier(), decide(REGION_2, state(R2, RegionRole.STANDBY, 1), lease(R1, 1, TTL)));
  }

  @Test
  void live_deadActiveRegionIsReplaced() {
    // pml:500 ltl live: once region-1 stops renewing, every later witness reading makes region-2
    // promote.
    for (long age = TTL + 1; age <= 3 * TTL; age += 100) {
      assertEquals(
          new Promote(PromoteKind.PROMOTION, 5),
          decide(REGION_2, state(R2, RegionRole.STANDBY, 4), lease(R1, 4, age)));
    }
  }

  @Test
  void acqReply_onlyAStandbyPromotes() {
    // pml:263 acqReply turns ACTIVE only a region that is STANDBY: a FENCED region never promotes.
    Decision d = decide(REGION_2, state(R2, RegionRole.FENCED, 1), lease(R1, 1, TTL * 3));
    assertEquals(new Wait(WaitReason.NO_NEWER_EPOCH), d);
  }

  @Test
  void acqOkNobody_standbyNeverTakesAFreeLeaseAfterBootstrap() {
    // pml:250 allows holder == NOBODY, which the model never reaches (pml:99 holder starts R1); the
    // code takes a free lease only at bootstrap.
    assertEquals(
        new RunApplier(),
        decide(REGION_2, state(R2, RegionRole.STANDBY, 0), lease(null, 0, TTL * 3)));
  }

  @Test
  void canonStandbyHasNoEpoch_standbyFollowsTheNewerEpoch() {
    // pml:350 a non-active region holds no epoch of its own; the code records the holder's and its
    // applier refuses older ones.
    assertEquals(
        new FollowEpoch(3, R1),
        decide(REGION_2, state(R2, RegionRole.STANDBY, 2), lease(R1, 3, 100)));
  }

  // ---- fenced: resync (failback)

  @Test
  void canResync_fencedFailsBackOnceANewerEpochExists() {
    // pml:276 CAN_RESYNC: FENCED -> STANDBY (resync abstracted, README:21); the code needs the
    // newer epoch's promotion record.
    assertEquals(
        new StartFailback(1, 2),
        decide(REGION_1, state(R1, RegionRole.FENCED, 1), lease(R2, 2, 100)));
  }

  @Test
  void canResync_fencedInItsOwnEpoch_waitsForThePeerToPromote() {
    // pml:276 CAN_RESYNC abstracts the wait: an operator's fence stays FENCED until the standby
    // takes epoch + 1.
    assertEquals(
        new Wait(WaitReason.NO_NEWER_EPOCH),
        decide(REGION_1, state(R1, RegionRole.FENCED, 1), lease(R1, 1, TTL + 10)));
  }

  // ---- seize and handover (README:60-63: not modelled)

  @Test
  void seize_tooRecently_waitsOneTtl() {
    // README:61-62 seize: intake opens only once one TTL has passed at the witness since the
    // seizure.
    Decision d = decide(REGION_2, state(R2, RegionRole.STANDBY, 1), lease(R2, 2, 50), TTL - 1);
    assertEquals(new Wait(WaitReason.SEIZED_TOO_RECENTLY), d);
  }

  @Test
  void seize_afterOneTtl_promotesInTheSeizedEpoch() {
    // README:61-62 seize: "one TTL has passed since the seizure" (same inequality as acquire after
    // expiry).
    Decision d = decide(REGION_2, state(R2, RegionRole.STANDBY, 1), lease(R2, 2, 50), TTL);
    assertEquals(new Promote(PromoteKind.SWITCHOVER, 2), d);
  }

  @Test
  void handOver_promotesAtOnceInTheHandedEpoch() {
    // README:60 handOver (planned switchover): the lease is this region's already, no acquire, no
    // wait.
    Decision d = decide(REGION_2, state(R2, RegionRole.STANDBY, 1), lease(R2, 2, 50));
    assertEquals(new Promote(PromoteKind.SWITCHOVER, 2), d);
    assertTrue(((Promote) d).handedOver());
  }

  @Test
  void handOver_witnessReadsOnlyWhenNeeded() {
    // pml:245-246: the watcher polls only as a standby; the seizure's age is read only when handed
    // the lease.
    LeaseState handed = lease(R2, 2, 50);
    LeaseState peers = lease(R1, 1, 50);
    assertTrue(REGION_2.needsSeizureAge(state(R2, RegionRole.STANDBY, 1), handed));
    assertFalse(REGION_2.watchesPeer(state(R2, RegionRole.STANDBY, 1), handed));
    assertFalse(REGION_2.needsSeizureAge(state(R2, RegionRole.STANDBY, 1), peers));
    assertTrue(REGION_2.watchesPeer(state(R2, RegionRole.STANDBY, 1), peers));
    assertFalse(REGION_1.watchesPeer(state(R1, RegionRole.ACTIVE, 1), peers));
    assertFalse(REGION_1.watchesPeer(Optional.empty(), peers));
  }

  // ---- bootstrap (pml:99-100, pml:438: region-1 ACTIVE in epoch 1, region-2 STANDBY)

  @Test
  void init_initialActiveRegionTakesTheFreeLease() {
    // pml:438 role[R1] = ACTIVE; rEpoch[R1] = 1: taken from epoch 0, so in epoch 1.
    Decision d = decide(REGION_1, Optional.empty(), lease(null, 0, 0));
    assertEquals(new Bootstrap(BootstrapKind.FIRST_ACTIVE, 0, "bootstrap: first active region"), d);
  }

  @Test
  void init_otherRegionBecomesStandbyOfTheHolder() {
    // pml:438 role[R2] = STANDBY.
    Decision d = decide(REGION_2, Optional.empty(), lease(R1, 1, 100));
    assertEquals(
        new Bootstrap(BootstrapKind.STANDBY_OF_HOLDER, 1, "bootstrap: standby of region-1"), d);
  }

  @Test
  void init_otherRegionWaitsAsStandbyWhileTheLeaseIsFree() {
    // pml:438 role[R2] = STANDBY, also before region-1 took the lease.
    Decision d = decide(REGION_2, Optional.empty(), lease(null, 0, 0));
    assertEquals(
        new Bootstrap(
            BootstrapKind.STANDBY_WAITING, 0, "bootstrap: standby, waiting for the active region"),
        d);
  }

  @Test
  void ownEpoch_stateLostWhileHoldingTheLease_fences() {
    // pml:492 acceptOnlyInOwnEpoch: a region that forgot what it accepted in epoch e must not
    // accept in it.
    Decision d = decide(REGION_1, Optional.empty(), lease(R1, 4, 100));
    assertEquals(
        new Bootstrap(BootstrapKind.STATE_LOST, 3, "region state lost while holding the lease"), d);
  }
}
