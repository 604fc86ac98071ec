package com.shrivenquant.failover.verify;

import java.util.List;

/**
 * What a promotion verified, kept in the region database and served to operators. {@code lost} is
 * the RPO as a list: every event the old primary wrote that the new active region does not have.
 */
public record ConsistencyReport(
    long epoch,
    String region,
    String previousRegion,
    Verdict verdict,
    int entitiesChecked,
    long eventsChecked,
    List<String> gaps,
    List<String> publishedButMissing,
    boolean peerReadable,
    List<LostEvent> lost,
    List<String> digestMismatches,
    long tookMillis) {

  public enum Verdict {
    /** Every check passed and nothing the old primary wrote is missing. */
    CONSISTENT,
    /** What is here is consistent, but events of the old primary did not make it (listed). */
    EVENTS_LOST,
    /** A gap, a published record not applied, or a journal that differs from the peer's. */
    INCONSISTENT
  }

  public record LostEvent(String persistenceId, long sequenceNumber, long writeTimestamp) {}
}
