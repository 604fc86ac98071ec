package com.shrivenquant.replication.journal;

import java.util.Arrays;
import java.util.List;

/**
 * One journal row exactly as akka-persistence-jdbc wrote it. Replication copies these fields byte
 * for byte and needs no engine type to do so.
 */
public record JournalRow(
    long ordering,
    String persistenceId,
    long sequenceNumber,
    boolean deleted,
    String writer,
    long writeTimestamp,
    String adapterManifest,
    int serId,
    String serManifest,
    byte[] payload,
    Integer metaSerId,
    String metaSerManifest,
    byte[] metaPayload,
    List<String> tags) {

  /** Equal journal content (the ordering is each region's own and is not compared). */
  public boolean sameEvent(JournalRow o) {
    return persistenceId.equals(o.persistenceId)
        && sequenceNumber == o.sequenceNumber
        && deleted == o.deleted
        && serId == o.serId
        && serManifest.equals(o.serManifest)
        && Arrays.equals(payload, o.payload)
        && java.util.Objects.equals(metaSerId, o.metaSerId)
        && java.util.Objects.equals(metaSerManifest, o.metaSerManifest)
        && Arrays.equals(metaPayload, o.metaPayload)
        && tags.equals(o.tags);
  }
}
