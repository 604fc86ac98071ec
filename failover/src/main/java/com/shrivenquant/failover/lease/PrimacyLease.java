package com.shrivenquant.failover.lease;

import java.util.OptionalLong;

/**
 * A region-level lease with a fencing epoch, judged by the witness's clock only. Same shape as
 * Akka's {@code akka.coordination.lease.scaladsl.Lease} (acquire, check, release) plus the epoch,
 * so a Kubernetes {@code Lease} backend can sit behind it. Every call is a single atomic
 * compare-and-set at the witness; any failure (timeout, connection) is reported as an exception and
 * never as a success.
 */
public interface PrimacyLease extends AutoCloseable {

  LeaseState read() throws LeaseUnavailable;

  /** Extends the holder's lease; false when {@code region} no longer holds it at {@code epoch}. */
  boolean renew(String region, long epoch) throws LeaseUnavailable;

  /**
   * Takes the lease with {@code expectedEpoch + 1} if it is still at {@code expectedEpoch} and
   * free, expired or already this region's. Empty when someone else moved first.
   */
  OptionalLong acquire(String region, long expectedEpoch) throws LeaseUnavailable;

  /** Planned switchover: the holder gives the lease to {@code to} with its epoch + 1. */
  OptionalLong handOver(String from, long epoch, String to) throws LeaseUnavailable;

  /**
   * Forced promotion, ordered by an operator: {@code region} takes the lease with {@code
   * expectedEpoch + 1} even though another region still holds it, fresh. The old holder's renewals
   * fail from now on, but a node of it that cannot reach the witness keeps accepting until its
   * fence margin runs out: nobody may accept in the new epoch before {@link #sinceSeized} reaches
   * the ttl.
   */
  OptionalLong seize(String region, long expectedEpoch) throws LeaseUnavailable;

  /**
   * How long ago (witness clock, ms) the lease was seized in {@code epoch}; empty when that epoch
   * was not taken by {@link #seize}.
   */
  OptionalLong sinceSeized(long epoch) throws LeaseUnavailable;

  @Override
  void close();

  /** The witness could not be reached, or did not answer in time. */
  final class LeaseUnavailable extends Exception {
    public LeaseUnavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
