package com.shrivenquant.failover.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.engine.persistence.JournalSchema;
import com.shrivenquant.failover.TestJournals;
import com.shrivenquant.failover.verify.ConsistencyReport.LostEvent;
import com.shrivenquant.failover.verify.ConsistencyReport.Verdict;
import com.shrivenquant.testkit.PostgresExtension;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The consistency check after a promotion, on real journals: region-2 ("mine", just promoted)
 * against region-1 ("peer", the old primary). Each verdict from a setup that calls for it, and the
 * report naming exactly what is wrong.
 */
class ConsistencyVerifierIT {
  @RegisterExtension
  static final PostgresExtension postgres =
      new PostgresExtension("region_2", JournalSchema::migrate);

  static DataSource mine;
  static DataSource peer;

  @BeforeAll
  static void databases() {
    mine = postgres.dataSource();
    peer = postgres.postgres().createDatabase("region_1").dataSource();
    JournalSchema.migrate(peer);
  }

  @BeforeEach
  void empty() throws Exception {
    for (DataSource ds : List.of(mine, peer)) {
      TestJournals.execute(ds, "TRUNCATE event_journal, snapshot CASCADE");
    }
  }

  /** Both sides: A:1..5, B:1..3, byte-identical (region-1 wrote them, region-2 applied them). */
  private static void identical() throws Exception {
    for (DataSource ds : List.of(mine, peer)) {
      TestJournals.events(ds, "region-1", "A", 1, 5);
      TestJournals.events(ds, "region-1", "B", 1, 3);
    }
  }

  private static ConsistencyReport verify(
      Map<String, Long> prefix, Map<String, Long> published, Optional<DataSource> peerDb)
      throws Exception {
    ConsistencyReport r =
        ConsistencyVerifier.verify(2, "region-2", "region-1", prefix, published, mine, peerDb);
    assertEquals(2, r.epoch());
    assertEquals("region-2", r.region());
    assertEquals("region-1", r.previousRegion());
    return r;
  }

  @Test
  void identicalJournalsAreConsistent() throws Exception {
    identical();
    ConsistencyReport r =
        verify(Map.of("A", 5L, "B", 3L), Map.of("A", 5L, "B", 3L), Optional.of(peer));
    assertEquals(Verdict.CONSISTENT, r.verdict(), r.toString());
    assertTrue(r.peerReadable());
    assertEquals(2, r.entitiesChecked());
    assertEquals(8, r.eventsChecked());
    assertEquals(List.of(), r.gaps());
    assertEquals(List.of(), r.publishedButMissing());
    assertEquals(List.of(), r.lost());
    assertEquals(List.of(), r.digestMismatches());
  }

  @Test
  void eventsOfTheOldPrimaryBeyondThePrefixAreListedAsLost() throws Exception {
    identical();
    TestJournals.events(peer, "region-1", "A", 6, 7); // written, never replicated
    TestJournals.events(peer, "region-1", "C", 1, 2); // an entity region-2 never heard of
    ConsistencyReport r =
        verify(Map.of("A", 5L, "B", 3L), Map.of("A", 5L, "B", 3L), Optional.of(peer));
    assertEquals(Verdict.EVENTS_LOST, r.verdict(), r.toString());
    assertEquals(
        List.of(
            new LostEvent("A", 6, TestJournals.writeTimestamp("A", 6)),
            new LostEvent("A", 7, TestJournals.writeTimestamp("A", 7)),
            new LostEvent("C", 1, TestJournals.writeTimestamp("C", 1)),
            new LostEvent("C", 2, TestJournals.writeTimestamp("C", 2))),
        r.lost());
    assertTrue(r.peerReadable());
    assertEquals(List.of(), r.gaps());
    assertEquals(List.of(), r.publishedButMissing());
    assertEquals(List.of(), r.digestMismatches(), "the common part is identical");
  }

  @Test
  void aGapInTheJournalIsInconsistent() throws Exception {
    identical();
    TestJournals.execute(
        mine, "DELETE FROM event_journal WHERE persistence_id = 'A' AND sequence_number = 3");
    // Without the peer: the gap alone decides.
    ConsistencyReport alone =
        verify(Map.of("A", 5L, "B", 3L), Map.of("A", 5L, "B", 3L), Optional.empty());
    assertEquals(Verdict.INCONSISTENT, alone.verdict(), alone.toString());
    assertEquals(1, alone.gaps().size(), alone.gaps().toString());
    assertTrue(alone.gaps().get(0).startsWith("A "), alone.gaps().toString());
    assertFalse(alone.peerReadable());
    assertEquals(List.of(), alone.publishedButMissing());
    assertEquals(7, alone.eventsChecked());

    // With the peer: the common part of A differs too.
    ConsistencyReport withPeer =
        verify(Map.of("A", 5L, "B", 3L), Map.of("A", 5L, "B", 3L), Optional.of(peer));
    assertEquals(Verdict.INCONSISTENT, withPeer.verdict());
    assertEquals(List.of("A"), withPeer.digestMismatches());
  }

  @Test
  void aByteDifferenceInTheCommonPartIsInconsistentAndNamesTheEntity() throws Exception {
    identical();
    TestJournals.execute(
        mine,
        "UPDATE event_journal SET event_payload = set_byte(event_payload, 0, 66)"
            + " WHERE persistence_id = 'B' AND sequence_number = 2");
    ConsistencyReport r =
        verify(Map.of("A", 5L, "B", 3L), Map.of("A", 5L, "B", 3L), Optional.of(peer));
    assertEquals(Verdict.INCONSISTENT, r.verdict(), r.toString());
    assertEquals(List.of("B"), r.digestMismatches());
    assertEquals(List.of(), r.gaps());
    assertEquals(List.of(), r.publishedButMissing());
    assertEquals(List.of(), r.lost());
  }

  @Test
  void aDifferentManifestInTheCommonPartIsInconsistent() throws Exception {
    identical();
    TestJournals.execute(
        peer,
        "UPDATE event_journal SET event_ser_manifest = 'Other'"
            + " WHERE persistence_id = 'A' AND sequence_number = 5");
    ConsistencyReport r =
        verify(Map.of("A", 5L, "B", 3L), Map.of("A", 5L, "B", 3L), Optional.of(peer));
    assertEquals(Verdict.INCONSISTENT, r.verdict(), r.toString());
    assertEquals(List.of("A"), r.digestMismatches());
  }

  @Test
  void aPublishedEventThatWasNotAppliedIsInconsistent() throws Exception {
    identical();
    ConsistencyReport r =
        verify(Map.of("A", 5L, "B", 3L), Map.of("A", 7L, "B", 3L), Optional.of(peer));
    assertEquals(Verdict.INCONSISTENT, r.verdict(), r.toString());
    assertEquals(List.of("A: published up to 7, applied up to 5"), r.publishedButMissing());
    assertEquals(List.of(), r.gaps());
    assertEquals(List.of(), r.digestMismatches());

    // An entity published but entirely absent here.
    ConsistencyReport absent =
        verify(Map.of("A", 5L, "B", 3L), Map.of("A", 5L, "D", 1L), Optional.empty());
    assertEquals(Verdict.INCONSISTENT, absent.verdict());
    assertEquals(List.of("D: published up to 1, applied up to 0"), absent.publishedButMissing());
  }

  @Test
  void anUnreadablePeerIsReportedAsSuch() throws Exception {
    identical();
    PGSimpleDataSource unreachable = new PGSimpleDataSource();
    unreachable.setUrl("jdbc:postgresql://127.0.0.1:" + postgres.port() + "/no_such_database");
    unreachable.setUser("nobody");
    unreachable.setPassword("nobody");
    ConsistencyReport r =
        verify(Map.of("A", 5L, "B", 3L), Map.of("A", 5L, "B", 3L), Optional.of(unreachable));
    assertFalse(r.peerReadable());
    assertEquals(List.of(), r.lost());
  }
}
