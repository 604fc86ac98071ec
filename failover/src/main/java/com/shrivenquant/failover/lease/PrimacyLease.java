package com.shrivenquant.failover.lease;

import java.util.OptionalLong;

/**
 * A region-level lease with a fencing epoch, judged by the witness's clock only. Same shape as
 * Akka's {@code akka.coordination.lease.scaladsl.Lease} (acquire, check, release) plus the epoch,
 * so a Kubernetes {@code Lease} backend can sit behind it. Every call is a single atomic
 * compare-and-set at the witness; any failure (timeout, connection) is reported as an exception
 * and never as a success.
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

  @Override
  void close();

  /** The witness could not be reached, or did not answer in time. */
  final class LeaseUnavailable extends Exception {
    public LeaseUnavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
