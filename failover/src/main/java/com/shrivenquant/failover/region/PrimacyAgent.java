package com.shrivenquant.failover.region;

import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.lease.LeaseState;
import com.shrivenquant.failover.lease.PrimacyLease;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs on every node: renews the region's lease while the region is ACTIVE and decides, from this
 * node's own successful renewals only, whether the node may accept orders. The lease belongs to the
 * region, so any live node keeps it; each node fences itself on its own clock when its last
 * successful renewal *began* more than {@code fence-margin} ago, which is before the witness lets
 * the standby take the lease (see reference.conf for the inequality).
 *
 * <p>It only reads the region state; the region's coordinator writes it.
 */
public final class PrimacyAgent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PrimacyAgent.class);

  /** What the node knows now. {@code accepting} is the only input the order path needs. */
  public record Status(
      String region,
      Optional<RegionState> state,
      boolean accepting,
      Optional<LeaseState> lastLeaseRead,
      long lastRenewStartNanos,
      String reason) {
    public long epoch() {
      return state.map(RegionState::epoch).orElse(0L);
    }

    public RegionRole role() {
      return state.map(RegionState::role).orElse(RegionRole.STANDBY);
    }

    /** The region that holds the lease as far as this node last heard. */
    public Optional<String> activeRegion() {
      if (state.isPresent() && state.get().role() == RegionRole.ACTIVE) return Optional.of(region);
      return lastLeaseRead.flatMap(LeaseState::holder);
    }
  }

  private final FailoverSettings settings;
  private final PrimacyLease lease;
  private final RegionStateStore store;
  private final ScheduledExecutorService timer;
  private final CopyOnWriteArrayList<Consumer<Status>> listeners = new CopyOnWriteArrayList<>();
  private final long fenceMarginNanos;
  private final long renewIntervalNanos;

  private volatile Status status;
  private long renewEpoch = -1;
  private long lastRenewStart = Long.MIN_VALUE;
  private long lastAttempt = System.nanoTime() - 3_600_000_000_000L; // due at once (no overflow)

  public PrimacyAgent(FailoverSettings settings, PrimacyLease lease, RegionStateStore store) {
    this.settings = settings;
    this.lease = lease;
    this.store = store;
    this.fenceMarginNanos = settings.lease().fenceMargin().toNanos();
    this.renewIntervalNanos = settings.lease().renewInterval().toNanos();
    this.status =
        new Status(
            settings.region(),
            Optional.empty(),
            false,
            Optional.empty(),
            Long.MIN_VALUE,
            "starting: region role not known yet");
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "primacy-agent");
              t.setDaemon(true);
              t.setPriority(Thread.MAX_PRIORITY);
              return t;
            });
  }

  public PrimacyAgent start() {
    long tick = settings.watcherPollInterval().toNanos();
    timer.scheduleWithFixedDelay(this::tickSafely, 0, tick, TimeUnit.NANOSECONDS);
    return this;
  }

  public Status status() {
    Status s = status;
    // The fence is re-evaluated on every read: a stalled agent thread cannot keep a node open.
    if (s.accepting() && System.nanoTime() - s.lastRenewStartNanos() >= fenceMarginNanos) {
      return new Status(
          s.region(),
          s.state(),
          false,
          s.lastLeaseRead(),
          s.lastRenewStartNanos(),
          "lease not renewed within the fence margin");
    }
    return s;
  }

  /** Called on the agent's thread whenever the node's view changes (role, epoch or accepting). */
  public void onChange(Consumer<Status> listener) {
    listeners.add(listener);
  }

  private void tickSafely() {
    try {
      tick();
    } catch (RuntimeException e) {
      log.warn("Primacy agent tick failed", e);
    }
  }

  private void tick() {
    Optional<RegionState> state;
    try {
      state = store.load();
    } catch (java.sql.SQLException e) {
      publish(
          status.state(),
          false,
          status.lastLeaseRead(),
          "region database unreadable: " + e.getMessage());
      return;
    }
    Optional<LeaseState> leaseRead = status.lastLeaseRead();
    long now = System.nanoTime();
    boolean due = now - lastAttempt >= renewIntervalNanos;
    if (state.isPresent()
        && state.get().role() == RegionRole.ACTIVE
        && state.get().epoch() != renewEpoch) {
      due = true; // just became active: renew now, not at the next interval
    }
    if (state.isPresent() && state.get().role() == RegionRole.ACTIVE) {
      long epoch = state.get().epoch();
      if (epoch != renewEpoch) {
        renewEpoch = epoch;
        lastRenewStart = Long.MIN_VALUE; // a renewal of another epoch proves nothing about this one
      }
      if (due) {
        lastAttempt = now;
        long t0 = System.nanoTime(); // before the request leaves: the conservative end
        try {
          if (lease.renew(settings.region(), epoch)) {
            lastRenewStart = Math.max(lastRenewStart, t0);
          } else {
            lastRenewStart = Long.MIN_VALUE; // lost: an earlier renewal must not reopen the node
            leaseRead = Optional.of(lease.read());
            publish(state, false, leaseRead, "lease lost: " + describe(leaseRead.get()));
            return;
          }
        } catch (PrimacyLease.LeaseUnavailable e) {
          // Keep the last good renewal: the node stays open until its fence margin runs out.
          log.debug("Renewal failed: {}", e.getMessage());
        }
      }
      boolean fresh =
          lastRenewStart != Long.MIN_VALUE && System.nanoTime() - lastRenewStart < fenceMarginNanos;
      publish(
          state,
          fresh,
          leaseRead,
          fresh ? "active, lease fresh" : "active, but lease not renewed within the fence margin");
      return;
    }
    renewEpoch = -1;
    lastRenewStart = Long.MIN_VALUE;
    if (due) {
      lastAttempt = now;
      try {
        leaseRead = Optional.of(lease.read());
      } catch (PrimacyLease.LeaseUnavailable e) {
        log.debug("Lease read failed: {}", e.getMessage());
      }
    }
    String why =
        state
            .map(s -> "region is " + s.role() + " in epoch " + s.epoch() + " (" + s.reason() + ")")
            .orElse("region role not known yet");
    publish(state, false, leaseRead, why);
  }

  private static String describe(LeaseState l) {
    return l.holder().map(h -> h + " holds it in epoch " + l.epoch()).orElse("nobody holds it");
  }

  private void publish(
      Optional<RegionState> state,
      boolean accepting,
      Optional<LeaseState> leaseRead,
      String reason) {
    Status previous = status;
    Status next =
        new Status(settings.region(), state, accepting, leaseRead, lastRenewStart, reason);
    status = next;
    boolean changed = previous.accepting() != accepting || !previous.state().equals(state);
    if (changed) {
      log.info(
          "Region {}: {} epoch {}, accepting orders: {} ({})",
          settings.region(),
          next.role(),
          next.epoch(),
          accepting,
          reason);
      for (Consumer<Status> l : listeners) {
        try {
          l.accept(next);
        } catch (RuntimeException e) {
          log.warn("Region status listener failed", e);
        }
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    lease.close();
  }
}
