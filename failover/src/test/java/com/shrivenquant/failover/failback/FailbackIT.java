package com.shrivenquant.failover.failback;

import static com.shrivenquant.failover.TestJournals.concat;
import static com.shrivenquant.failover.TestJournals.count;
import static com.shrivenquant.failover.TestJournals.eventIds;
import static com.shrivenquant.failover.TestJournals.ids;
import static com.shrivenquant.failover.TestJournals.strings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.engine.persistence.JournalSchema;
import com.shrivenquant.failover.FailoverContext;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.TestJournals;
import com.shrivenquant.failover.lease.LeaseState;
import com.shrivenquant.failover.notify.Incident;
import com.shrivenquant.failover.region.RegionRole;
import com.shrivenquant.failover.region.RegionState;
import com.shrivenquant.failover.region.RegionStateStore;
import com.shrivenquant.failover.verify.ConsistencyReport;
import com.shrivenquant.failover.verify.ConsistencyReport.LostEvent;
import com.shrivenquant.testkit.PostgresExtension;
import com.typesafe.config.ConfigFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
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
 * Failback of a returning old primary (region-1, fenced in epoch 1) after region-2 was promoted in
 * epoch 2 from a replicated prefix: region-1's events beyond that prefix are set aside in {@code
 * reconciliation_tail} byte for byte, removed from its journal together with snapshots that cover
 * them, and region-1 becomes standby in epoch 2, with an incident and an audit entry.
 */
class FailbackIT {
  static final String[] TABLES = {
    "event_journal",
    "event_tag",
    "snapshot",
    "region_state",
    "failover_incident",
    "consistency_report",
    "reconciliation_tail",
    "replicated_prefix",
    "promotion"
  };

  /** audit_log is append-only (not truncated): each test reads only the rows after this id. */
  static long auditMark;

  @RegisterExtension
  static final PostgresExtension postgres = new PostgresExtension("region_1", FailbackIT::migrate);

  static DataSource region1;
  static DataSource region2;
  static FailoverSettings settings;

  static final RegionState FENCED =
      new RegionState("region-1", RegionRole.FENCED, 1, "epoch 2 seen at the witness");
  static final LeaseState LEASE = new LeaseState(Optional.of("region-2"), 2, 150, 2000);

  @BeforeAll
  static void setUp() {
    region1 = postgres.dataSource();
    region2 = postgres.postgres().createDatabase("region_2").dataSource();
    migrate(region2);
    settings = FailoverSettings.fromConfig(ConfigFactory.load(), "region-1");
  }

  static void migrate(DataSource ds) {
    JournalSchema.migrate(ds);
    RegionStateStore.migrate(ds);
  }

  /**
   * Original journal rows by "pid:seq": ordering, writer, timestamp, serializer, manifest, payload.
   */
  record Row(
      long ordering,
      String writer,
      long writeTimestamp,
      int serId,
      String manifest,
      byte[] payload) {}

  @BeforeEach
  void regions() throws Exception {
    for (DataSource ds : List.of(region1, region2)) {
      TestJournals.execute(
          ds, "TRUNCATE " + String.join(", ", TABLES) + " RESTART IDENTITY CASCADE");
    }
    auditMark = count(region1, "SELECT coalesce(max(id), 0) FROM audit_log");
    // region-1, the old primary: A:1..10, B:1..5, C:1..3; snapshots A@9, B@4 and C@2; tags on A:2
    // and A:9.
    TestJournals.events(region1, "region-1", "A", 1, 10);
    TestJournals.events(region1, "region-1", "B", 1, 5);
    TestJournals.events(region1, "region-1", "C", 1, 3);
    TestJournals.snapshot(region1, "A", 9);
    TestJournals.snapshot(region1, "B", 4);
    TestJournals.snapshot(region1, "C", 2);
    TestJournals.execute(
        region1,
        "INSERT INTO event_tag (event_id, tag) SELECT ordering, 'orders'"
            + " FROM event_journal WHERE persistence_id = 'A' AND sequence_number IN (2, 9)");
    store1().save(RegionRole.ACTIVE, 1, "initial active region");
    store1().save(RegionRole.FENCED, 1, "epoch 2 seen at the witness");

    // region-2, the new active region: it was promoted in epoch 2 from A:8, B:5 (no C).
    TestJournals.events(region2, "region-1", "A", 1, 8);
    TestJournals.events(region2, "region-1", "B", 1, 5);
    TestJournals.execute(
        region2,
        "INSERT INTO promotion (epoch, region, previous, kind)"
            + " VALUES (2, 'region-2', 'region-1', 'promotion')");
    TestJournals.execute(
        region2,
        "INSERT INTO replicated_prefix (epoch, persistence_id, sequence_number)"
            + " VALUES (2, 'A', 8), (2, 'B', 5)");
    new RegionStateStore(region2, "region-2").save(RegionRole.ACTIVE, 2, "promoted");
  }

  @Test
  void setsAsideTheUnreplicatedTailAndBecomesStandbyInTheNewEpoch() throws Exception {
    Map<String, Row> before = rows(region1);
    long region2Events = count(region2, "SELECT count(*) FROM event_journal");

    Optional<Incident> result = Failback.run(context(Optional.of(region2)), FENCED, LEASE);

    List<String> tail = concat(ids("A", 9, 10), ids("C", 1, 3));
    // The tail: exactly A:9,10 and C:1..3, of fenced epoch 1, byte for byte.
    assertEquals(
        tail,
        strings(
            region1,
            "SELECT persistence_id || ':' || sequence_number FROM reconciliation_tail"
                + " ORDER BY persistence_id, sequence_number"));
    assertEquals(
        List.of("1"),
        strings(region1, "SELECT DISTINCT fenced_epoch::text FROM reconciliation_tail"));
    try (Connection c = region1.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT persistence_id, sequence_number, ordering_was, writer, write_timestamp, event_ser_id,"
                    + " event_ser_manifest, event_payload FROM reconciliation_tail");
        ResultSet rs = ps.executeQuery()) {
      int n = 0;
      while (rs.next()) {
        String id = rs.getString(1) + ":" + rs.getLong(2);
        Row original = before.get(id);
        assertEquals(original.ordering(), rs.getLong(3), id);
        assertEquals(original.writer(), rs.getString(4), id);
        assertEquals(original.writeTimestamp(), rs.getLong(5), id);
        assertEquals(original.serId(), rs.getInt(6), id);
        assertEquals(original.manifest(), rs.getString(7), id);
        assertArrayEquals(original.payload(), rs.getBytes(8), id);
        assertArrayEquals(
            TestJournals.payload("region-1", rs.getString(1), rs.getLong(2)), rs.getBytes(8), id);
        n++;
      }
      assertEquals(5, n);
    }

    // The journal keeps exactly the replicated prefix; its tags follow the events.
    assertEquals(concat(ids("A", 1, 8), ids("B", 1, 5)), eventIds(region1));
    assertEquals(
        List.of("A:2"),
        strings(
            region1,
            "SELECT j.persistence_id || ':' || j.sequence_number"
                + " FROM event_tag t JOIN event_journal j ON j.ordering = t.event_id"));
    assertEquals(1, count(region1, "SELECT count(*) FROM event_tag"));
    // The remaining events are untouched.
    Map<String, Row> after = rows(region1);
    for (String id : concat(ids("A", 1, 8), ids("B", 1, 5))) {
      assertArrayEquals(before.get(id).payload(), after.get(id).payload(), id);
      assertEquals(before.get(id).ordering(), after.get(id).ordering(), id);
    }
    // A snapshot beyond the prefix would bring the tail back on recovery: A@9 and C@2 (C is not
    // in the prefix at all) are gone. B@4 is inside it: kept.
    assertEquals(
        List.of("B:4"),
        strings(
            region1, "SELECT persistence_id || ':' || sequence_number FROM snapshot ORDER BY 1"));

    RegionState now = store1().load().orElseThrow();
    assertEquals(RegionRole.STANDBY, now.role());
    assertEquals(2, now.epoch());
    assertTrue(now.reason().contains("5 unreplicated events"), now.reason());

    assertTrue(result.isPresent());
    Incident incident = result.get();
    assertEquals("failback", incident.kind());
    assertEquals("region-1", incident.region());
    assertEquals("region-2", incident.previousRegion());
    assertEquals(1, incident.fromEpoch());
    assertEquals(2, incident.toEpoch());
    assertEquals(5, incident.eventsLost());
    assertEquals(ConsistencyReport.Verdict.EVENTS_LOST, incident.verdict());
    assertEquals(2L, incident.evidence().get("promotionEpoch"));
    assertEquals(
        List.of(
            new LostEvent("A", 9, TestJournals.writeTimestamp("A", 9)),
            new LostEvent("A", 10, TestJournals.writeTimestamp("A", 10)),
            new LostEvent("C", 1, TestJournals.writeTimestamp("C", 1)),
            new LostEvent("C", 2, TestJournals.writeTimestamp("C", 2)),
            new LostEvent("C", 3, TestJournals.writeTimestamp("C", 3))),
        incident.evidence().get("setAside"));

    assertEquals(
        List.of("failback|2|5|1"),
        strings(
            region1,
            "SELECT kind || '|' || epoch || '|'"
                + " || (document->>'eventsLost') || '|' || (document->>'fromEpoch') FROM failover_incident"));
    assertEquals(
        List.of("region-coordinator:region-1|failback|region-2 -> region-1|ok"),
        strings(
            region1,
            "SELECT actor || '|' || action || '|' || target || '|' || outcome FROM audit_log WHERE id > "
                + auditMark));
    assertEquals(
        List.of("5"),
        strings(
            region1,
            "SELECT jsonb_array_length(detail->'evidence'->'setAside')::text"
                + " FROM audit_log WHERE id > "
                + auditMark));

    // The new active region is only read.
    assertEquals(region2Events, count(region2, "SELECT count(*) FROM event_journal"));
    assertEquals(0, count(region2, "SELECT count(*) FROM reconciliation_tail"));
    assertEquals(0, count(region2, "SELECT count(*) FROM failover_incident"));
  }

  @Test
  void runningItAgainAfterACrashSetsNothingAsideTwiceAndLosesNothing() throws Exception {
    FailoverContext ctx = context(Optional.of(region2));
    Failback.run(ctx, FENCED, LEASE).orElseThrow();
    Incident again = Failback.run(ctx, FENCED, LEASE).orElseThrow();
    assertEquals(5, again.eventsLost(), "the tail is still reported");
    assertEquals(5, count(region1, "SELECT count(*) FROM reconciliation_tail"));
    assertEquals(concat(ids("A", 1, 8), ids("B", 1, 5)), eventIds(region1));
    assertEquals(RegionRole.STANDBY, store1().load().orElseThrow().role());
  }

  @Test
  void withoutANewerPromotionInThePeerNothingHappens() throws Exception {
    // region-2 has a promotion record, but only of an epoch that is not newer than region-1's.
    TestJournals.execute(region2, "TRUNCATE promotion, replicated_prefix");
    TestJournals.execute(
        region2,
        "INSERT INTO promotion (epoch, region, previous, kind)"
            + " VALUES (1, 'region-2', NULL, 'promotion')");
    assertUntouchedAfter(Optional.of(region2));

    TestJournals.execute(region2, "TRUNCATE promotion, replicated_prefix");
    assertUntouchedAfter(Optional.of(region2));
  }

  @Test
  void withoutAReadablePeerNothingHappens() throws Exception {
    assertUntouchedAfter(Optional.empty());
    PGSimpleDataSource unreachable = new PGSimpleDataSource();
    unreachable.setUrl("jdbc:postgresql://127.0.0.1:" + postgres.port() + "/no_such_database");
    unreachable.setUser("nobody");
    unreachable.setPassword("nobody");
    assertUntouchedAfter(Optional.of(unreachable));
  }

  private void assertUntouchedAfter(Optional<DataSource> peer) throws Exception {
    Map<String, Row> before = rows(region1);
    Optional<Incident> result = Failback.run(context(peer), FENCED, LEASE);
    assertEquals(Optional.empty(), result);
    assertEquals(concat(ids("A", 1, 10), ids("B", 1, 5), ids("C", 1, 3)), eventIds(region1));
    Map<String, Row> after = rows(region1);
    before.forEach((id, row) -> assertArrayEquals(row.payload(), after.get(id).payload(), id));
    assertEquals(
        List.of("A:9", "B:4", "C:2"),
        strings(
            region1, "SELECT persistence_id || ':' || sequence_number FROM snapshot ORDER BY 1"));
    assertEquals(2, count(region1, "SELECT count(*) FROM event_tag"));
    assertEquals(0, count(region1, "SELECT count(*) FROM reconciliation_tail"));
    assertEquals(0, count(region1, "SELECT count(*) FROM failover_incident"));
    assertEquals(0, count(region1, "SELECT count(*) FROM audit_log WHERE id > " + auditMark));
    RegionState state = store1().load().orElseThrow();
    assertEquals(RegionRole.FENCED, state.role());
    assertEquals(1, state.epoch());
  }

  /** Region-1's context; no actor system: failback runs no streams. */
  private static FailoverContext context(Optional<DataSource> peer) {
    return FailoverContext.of(null, settings, region1, peer);
  }

  private static RegionStateStore store1() {
    return new RegionStateStore(region1, "region-1");
  }

  private static Map<String, Row> rows(DataSource db) throws SQLException {
    Map<String, Row> out = new LinkedHashMap<>();
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT persistence_id, sequence_number, ordering, writer, write_timestamp, event_ser_id,"
                    + " event_ser_manifest, event_payload FROM event_journal ORDER BY ordering");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.put(
            rs.getString(1) + ":" + rs.getLong(2),
            new Row(
                rs.getLong(3),
                rs.getString(4),
                rs.getLong(5),
                rs.getInt(6),
                rs.getString(7),
                rs.getBytes(8)));
      }
    }
    return out;
  }
}
