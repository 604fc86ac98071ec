package com.shrivenquant.failover.region;

import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.lease.LeaseState;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The region coordinator's role decision as a pure function of what it read in one tick: no I/O and
 * no clock (the lease's and the seizure's ages are the witness's readings, passed in). The rules
 * are those of failover/model/primacy.pml; RegionPolicyTest has one test per case.
 */
public final class RegionPolicy {

  /**
   * @param state the region's stored role, empty before the region ever had one
   * @param sinceSeizedMillis how long ago (witness clock) the lease was seized in its epoch; read
   *     only when the lease was handed to this region (see {@link #handedToUs}), else empty
   */
  public record Inputs(
      Optional<RegionState> state, LeaseState lease, OptionalLong sinceSeizedMillis) {}

  /** What the coordinator does this tick. */
  public sealed interface Decision
      permits Bootstrap,
          RunPublisher,
          Fence,
          RunApplier,
          FollowEpoch,
          Promote,
          Wait,
          StartFailback {}

  public enum BootstrapKind {
    FIRST_ACTIVE,
    STANDBY_OF_HOLDER,
    STANDBY_WAITING,
    STATE_LOST
  }

  /**
   * No stored role yet. FIRST_ACTIVE takes the lease from {@code epoch} (so in epoch + 1); the
   * others store their role in {@code epoch} with {@code reason}.
   */
  public record Bootstrap(BootstrapKind kind, long epoch, String reason) implements Decision {}

  /** ACTIVE, and the lease is this region's in its epoch: publish the journal. */
  public record RunPublisher(long epoch) implements Decision {}

  /** ACTIVE, but the lease is someone else's or in another epoch: FENCED in {@code epoch}. */
  public record Fence(long epoch, String why) implements Decision {}

  /** STANDBY, nothing new: keep applying the peer's journal. */
  public record RunApplier() implements Decision {}

  /** STANDBY, and the peer holds the lease in a newer epoch: refuse older epochs, record it. */
  public record FollowEpoch(long epoch, String holder) implements Decision {}

  public enum PromoteKind {
    SWITCHOVER("switchover"),
    PROMOTION("promotion");

    private final String label;

    PromoteKind(String label) {
      this.label = label;
    }

    /** The incident's kind. */
    public String label() {
      return label;
    }
  }

  /**
   * STANDBY becomes ACTIVE in {@code epoch}: SWITCHOVER when the lease was handed over (or seized)
   * already, PROMOTION when the active region is gone (the lease is taken with epoch + 1).
   */
  public record Promote(PromoteKind kind, long epoch) implements Decision {
    public boolean handedOver() {
      return kind == PromoteKind.SWITCHOVER;
    }
  }

  public enum WaitReason {
    /**
     * A seized lease opens nothing before one ttl has passed at the witness, also when a moved
     * coordinator singleton finds it half-way through a forced promotion; the applier runs.
     */
    SEIZED_TOO_RECENTLY,
    /** FENCED, and no region has taken a newer epoch yet: nothing runs. */
    NO_NEWER_EPOCH
  }

  public record Wait(WaitReason reason) implements Decision {}

  /** FENCED, and the lease moved to a newer epoch: set the unreplicated tail aside, resync. */
  public record StartFailback(long fencedEpoch, long newEpoch) implements Decision {}

  private final String region;
  private final String initialActiveRegion;
  private final long pauseBudgetMillis;
  private final long ttlMillis;

  public RegionPolicy(
      String region, String initialActiveRegion, long pauseBudgetMillis, long ttlMillis) {
    this.region = region;
    this.initialActiveRegion = initialActiveRegion;
    this.pauseBudgetMillis = pauseBudgetMillis;
    this.ttlMillis = ttlMillis;
  }

  public static RegionPolicy of(FailoverSettings s) {
    return new RegionPolicy(
        s.region(),
        s.initialActiveRegion(),
        s.pauseBudget().toMillis(),
        s.lease().ttl().toMillis());
  }

  public Decision decide(Inputs in) {
    LeaseState lease = in.lease();
    if (in.state().isEmpty()) return bootstrap(lease);
    RegionState s = in.state().get();
    return switch (s.role()) {
      case ACTIVE ->
          lease.heldBy(region) && lease.epoch() == s.epoch()
              ? new RunPublisher(s.epoch())
              : new Fence(
                  s.epoch(),
                  lease.holder().orElse("nobody") + " holds the lease in epoch " + lease.epoch());
      case STANDBY -> standby(s, lease, in.sinceSeizedMillis());
      case FENCED ->
          lease.epoch() > s.epoch()
              ? new StartFailback(s.epoch(), lease.epoch())
              : new Wait(WaitReason.NO_NEWER_EPOCH);
    };
  }

  private Decision standby(RegionState s, LeaseState lease, OptionalLong sinceSeized) {
    if (handedToUs(s, lease)) {
      if (sinceSeized.isPresent() && sinceSeized.getAsLong() < ttlMillis)
        return new Wait(WaitReason.SEIZED_TOO_RECENTLY);
      return new Promote(PromoteKind.SWITCHOVER, lease.epoch());
    }
    if (activeRegionGone(lease)) return new Promote(PromoteKind.PROMOTION, lease.epoch() + 1);
    if (lease.epoch() > s.epoch())
      return new FollowEpoch(lease.epoch(), lease.holder().orElse("?"));
    return new RunApplier();
  }

  private Decision bootstrap(LeaseState lease) {
    if (lease.holder().isEmpty() && region.equals(initialActiveRegion)) {
      return new Bootstrap(
          BootstrapKind.FIRST_ACTIVE, lease.epoch(), "bootstrap: first active region");
    }
    if (lease.holder().isPresent() && !lease.heldBy(region)) {
      return new Bootstrap(
          BootstrapKind.STANDBY_OF_HOLDER,
          lease.epoch(),
          "bootstrap: standby of " + lease.holder().get());
    }
    if (lease.holder().isEmpty()) {
      return new Bootstrap(
          BootstrapKind.STANDBY_WAITING,
          lease.epoch(),
          "bootstrap: standby, waiting for the active region");
    }
    // The witness says this region holds the lease but the region has no memory of it (its
    // database was replaced): it cannot know what it accepted, so it must not accept.
    return new Bootstrap(
        BootstrapKind.STATE_LOST, lease.epoch() - 1, "region state lost while holding the lease");
  }

  /** STANDBY, and the lease is already this region's in a newer epoch (handed over or seized). */
  public boolean handedToUs(RegionState s, LeaseState lease) {
    return s.role() == RegionRole.STANDBY && lease.heldBy(region) && lease.epoch() > s.epoch();
  }

  /** Whether the seizure's age is an input of this tick (a witness read only then). */
  public boolean needsSeizureAge(Optional<RegionState> state, LeaseState lease) {
    return state.isPresent() && handedToUs(state.get(), lease);
  }

  /** Whether the watcher looks at the peer this tick: as a standby not yet handed the lease. */
  public boolean watchesPeer(Optional<RegionState> state, LeaseState lease) {
    return state.isPresent()
        && state.get().role() == RegionRole.STANDBY
        && !handedToUs(state.get(), lease);
  }

  /**
   * The watcher's verdict: the peer's lease expired at the witness and is at least the pause budget
   * old, so a stall shorter than the pause budget never promotes.
   */
  public boolean activeRegionGone(LeaseState lease) {
    if (lease.heldBy(region)) return false;
    return lease.holder().isPresent() && lease.expired() && lease.ageMillis() >= pauseBudgetMillis;
  }
}
