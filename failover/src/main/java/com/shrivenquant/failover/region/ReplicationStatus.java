package com.shrivenquant.failover.region;

/**
 * Replication as the region's coordinator sees it, per stage. Publish stage (this region's journal
 * -> Kafka): the journal head, the publisher's acknowledged position, and how long the oldest
 * unpublished row has waited. Apply stage (the peer's Kafka -> this journal): rows applied and
 * refused since the applier started, when the last batch committed, and the end-to-end lag (write
 * in the active region -> commit here) since the previous status call. -1: not running.
 */
public record ReplicationStatus(
    String region,
    String role,
    long epoch,
    String durability,
    boolean publishing,
    long journalHead,
    long publishedUpTo,
    long oldestUnpublishedAgeMillis,
    boolean applying,
    long applied,
    long refused,
    long lastAppliedAgoMillis,
    long lagSamples,
    double lagP50Millis,
    double lagP99Millis,
    double lagMaxMillis)
    implements FailoverSerializable {}
