package com.shrivenquant.local.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.infra.EtcdCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The main job, for real, in the test suite: both regions as child processes (2 nodes each), their
 * PostgreSQL servers, the witness's three etcd members, a Kafka broker, a DNS server the clients
 * resolve the order API's name at. An unplanned failover by kill -9 of every region-1 process (sync
 * durability), then a partition of region 1 from the witness's members and region 2; each followed
 * by region 1's return as standby and a planned switchover back; then the witness losing one
 * member, then two.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DrillIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static DrillEnvironment env;
  private static DrillRun drill;
  // fence-margin 1,400 ms after the start of the last renewal, renewals every 200 ms, plus 400 ms
  // for a loaded machine's scheduling: no order first sent later than this may be acknowledged.
  private static final long FENCED_WITHIN_MS = 2_000;
  // The report's header names the witness and routing: the environment's defaults, as the drill's.
  private static DrillMain.Options report;

  @BeforeAll
  static void start() throws Exception {
    Path work = Files.createTempDirectory("drill-it-");
    report =
        DrillMain.Options.parse(new String[] {"--work-dir", work.toString(), "--mode", "sync"});
    env =
        DrillEnvironment.start(
            work, List.of("-Xmx320m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"), "sync", 5);
    drill =
        new DrillRun(
            env,
            line -> System.out.println("drill-it | " + line),
            List.of("ACME", "SYM000", "SYM001", "SYM002"),
            60,
            "sync");
  }

  @AfterAll
  static void stop() {
    if (env != null) env.close();
  }

  @Test
  @Order(1)
  void killOfEveryRegion1ProcessPromotesRegion2WithoutLosingAnAcknowledgedOrder() throws Exception {
    List<long[]> injected = new ArrayList<>();
    // The race the drill cannot force: events region 1 committed but never published before it
    // died. Three are written into its journal right after the kill, as its last words.
    DrillRun.Result r =
        drill.run(
            1,
            DrillRun.Fault.KILL,
            e -> injected.addAll(injectUnpublishedTail(e.region1.db.dataSource())));
    System.out.println(DrillMain.table(List.of(r), report));

    assertTrue(r.rtoMs() > 0, "region 2 accepted orders after the kill");
    assertFalse(r.falseFailover(), "a stall below the pause budget caused no failover");
    assertEquals(0, r.lost(), "sync mode: every acknowledged order is in region 2's journal");
    assertEquals(0, r.executedTwice(), "no order executed twice");
    assertTrue(
        r.rpoEvents() >= 3,
        "the consistency report lists the unreplicated events: " + r.rpoEvents());
    assertEquals("EVENTS_LOST", r.verdict());
    assertTrue(r.regionsNeverOverlapped(), "region 1's last write before region 2's first");

    // Failback: the tail is set aside (kept, reported), and the journals are equal again.
    assertTrue(r.tailSetAside() >= 3, "tail set aside: " + r.tailSetAside());
    assertTrue(r.journalsEqual(), "region 1's journal equals region 2's after resync");
    for (long[] seq : injected) {
      assertTrue(
          inReconciliationTail(env.region1.db.dataSource(), "Instrument|ACME", seq[0]),
          "injected event ACME#" + seq[0] + " is in region 1's reconciliation_tail");
    }

    // Planned switchover back: nothing lost, nothing twice.
    assertEquals(0, r.switchoverLost());
    assertEquals(0, r.switchoverTwice());
    assertTrue(r.switchoverAcknowledged() > 0);
    // A sanity bound, not the target (< 1 s, warm: docs/BENCHMARKS.md). This switchover lands on
    // region 1's JVMs restarted seconds before (C1 only), whose entities recover for the first
    // time:
    // 1.0-1.4 s on 2026-11-24's machine; 4.2-6.5 s on 2026-12-04's, before the issue-12 move
    // (bd6e6d0: 5,465 ms) and after it alike, so 5 s failed CI on the machine, not on the code.
    assertTrue(
        r.switchoverUnavailableMs() >= 0 && r.switchoverUnavailableMs() < 10_000,
        "switchover unavailability " + r.switchoverUnavailableMs() + " ms");

    // Clients found each region through DNS: after the switchover back, the order API's name
    // resolves (at the real named, no cache) to region 1's nodes again.
    assertEquals(
        List.of("127.0.1.1", "127.0.1.2"),
        ((DnsOrderEndpoint) env.clientEndpoint()).lookup().stream().sorted().toList());

    // The webhook receiver got the incident with its timings and verdict.
    JsonNode promotion =
        env.webhookDeliveries.stream()
            .map(DrillIT::parse)
            .filter(d -> "promotion".equals(d.path("kind").asText()))
            .findFirst()
            .orElseThrow();
    assertEquals("region-2", promotion.path("region").asText());
    assertEquals("EVENTS_LOST", promotion.path("verdict").asText());
    assertTrue(
        promotion.path("steps").size() >= 6, "steps with timings: " + promotion.path("steps"));
    assertTrue(
        promotion.path("steps").get(0).path("at").asLong() >= promotion.path("decidedAt").asLong());
  }

  @Test
  @Order(2)
  void partitionedRegion1StopsBeforeRegion2Starts() throws Exception {
    DrillRun.Result r = drill.run(2, DrillRun.Fault.PARTITION);
    System.out.println(DrillMain.table(List.of(r), report));
    assertTrue(r.rtoMs() > 0, "region 2 took over from the partitioned region 1");
    assertTrue(
        r.regionsNeverOverlapped(),
        "region 1 wrote its last order at "
            + r.lastRegion1WriteMs()
            + ", region 2 its first at "
            + r.firstRegion2WriteMs());
    assertEquals(0, r.lost());
    assertEquals(0, r.executedTwice());
    assertTrue(r.journalsEqual());
    assertEquals(0, r.switchoverLost());
  }

  @Test
  @Order(3)
  void replicationStatusShowsEachStage() throws Exception {
    try (DrillClient client =
        new DrillClient(env.clientEndpoint(), List.of("ACME", "SYM000"), 2, 40, "status").start()) {
      JsonNode standby =
          Eventually.await(
              "region 2 applying with lag samples",
              Duration.ofSeconds(30),
              () -> env.region2.get("/failover/replication"),
              r -> r.path("applied").asLong() > 0 && r.path("lagSamples").asLong() > 0);
      System.out.println("drill-it | region-2 replication: " + standby);
      assertEquals("STANDBY", standby.path("role").asText());
      assertTrue(standby.path("applying").asBoolean());
      assertTrue(standby.path("applied").asLong() > 0, "applied: " + standby);
      assertTrue(
          standby.path("lagSamples").asLong() > 0 && standby.path("lagP99Millis").asDouble() > 0,
          standby.toString());
      assertFalse(standby.path("publishing").asBoolean());
      client.stopAndAwait(java.time.Duration.ofSeconds(10));
    }
    JsonNode active =
        Eventually.await(
            "the idle active region's journal all published",
            Duration.ofSeconds(30),
            () -> env.region1.get("/failover/replication"),
            r -> r.path("journalHead").asLong() == r.path("publishedUpTo").asLong());
    System.out.println("drill-it | region-1 replication: " + active);
    assertEquals("ACTIVE", active.path("role").asText());
    assertTrue(active.path("publishing").asBoolean());
    assertFalse(active.path("applying").asBoolean());
    assertEquals(
        active.path("journalHead").asLong(),
        active.path("publishedUpTo").asLong(),
        "idle active region: everything published");
  }

  /**
   * The witness of three under member death, orders flowing: one etcd member (the leader, the worst
   * case) killed -9 changes nothing for the regions; a second one takes the quorum away, so region
   * 1 can no longer renew and fences itself, and region 2 cannot take the lease either; the members
   * come back and a region is active again. Last: it leaves the witness restarted.
   */
  @Test
  @Order(4)
  void oneWitnessMemberLostChangesNothingTwoStopTradingEverywhereUntilTheyReturn()
      throws Exception {
    EtcdCluster etcd = ((DrillWitness.Etcd) env.witness).cluster;
    long epoch = env.region1.status().path("epoch").asLong();
    try (DrillClient client =
        new DrillClient(env.clientEndpoint(), List.of("ACME", "SYM000", "SYM001"), 4, 60, "quorum")
            .start()) {
      awaitAcksSince(client, 0, 50, Duration.ofSeconds(60));
      long failedBefore = client.failedAttempts();

      // One member dies: the leader, so an election runs under the regions' renewals.
      int first = etcd.leader();
      etcd.kill9(first);
      long killedFirst = System.currentTimeMillis();
      Thread.sleep(10_000);
      assertEquals(
          failedBefore,
          client.failedAttempts(),
          "no order attempt was refused or unanswered while one member was down");
      assertTrue(
          awaitAcksSince(client, killedFirst + 8_000, 20, Duration.ofSeconds(5)),
          "orders kept being acknowledged");
      assertAccepting(env.region1, true);
      assertAccepting(env.region2, false);
      assertEquals(epoch, env.region1.status().path("epoch").asLong(), "no failover");

      // A second member dies: no quorum, no renewal, region 1 fences; nobody takes over.
      int second = (first + 1) % 3;
      etcd.kill9(second);
      long killedSecond = System.currentTimeMillis();
      Thread.sleep(8_000);
      long lastAllowed = killedSecond + FENCED_WITHIN_MS;
      List<DrillClient.Ack> late =
          client.acks().stream().filter(a -> a.firstSentAt() > lastAllowed).toList();
      assertTrue(late.isEmpty(), "orders acknowledged without a witness quorum: " + late);
      assertAccepting(env.region1, false);
      assertAccepting(env.region2, false);

      // The members return: a region is active again and orders are acknowledged.
      etcd.restart(first);
      etcd.restart(second);
      long back = System.currentTimeMillis();
      assertTrue(
          awaitAcksSince(client, back, 20, Duration.ofSeconds(60)),
          "orders acknowledged again after the witness quorum returned");
      client.stopAndAwait(Duration.ofSeconds(20));
      System.out.printf(
          "drill-it | witness: first member killed at +0 ms (leader %d), second at +%d ms; acks"
              + " resumed after the members returned; failed attempts overall %d%n",
          first, killedSecond - killedFirst, client.failedAttempts());
    }
  }

  private static void assertAccepting(DrillEnvironment.Region region, boolean accepting) {
    for (int i = 0; i < region.layout.size(); i++) {
      JsonNode s = region.nodeStatus(i);
      assertTrue(s != null, region.name + " node " + i + " answers its status");
      assertEquals(
          accepting, s.path("accepting").asBoolean(), region.name + " node " + i + ": " + s);
    }
  }

  /** True once {@code count} orders acknowledged at or after {@code since} (epoch ms). */
  private static boolean awaitAcksSince(DrillClient client, long since, int count, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (client.acks().stream().filter(a -> a.ackedAt() >= since).count() >= count) return true;
      Thread.sleep(100);
    }
    return false;
  }

  private static List<long[]> injectUnpublishedTail(DataSource region1) {
    List<long[]> out = new ArrayList<>();
    try (Connection c = region1.getConnection()) {
      long last;
      try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT max(sequence_number) FROM event_journal WHERE persistence_id = 'Instrument|ACME'");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        last = rs.getLong(1);
      }
      for (int i = 1; i <= 3; i++) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO event_journal (persistence_id, sequence_number, deleted, writer, write_timestamp,"
                    + " adapter_manifest, event_ser_id, event_ser_manifest, event_payload, meta_ser_id,"
                    + " meta_ser_manifest, meta_payload) SELECT persistence_id, ?, deleted, writer,"
                    + " write_timestamp + 1, adapter_manifest, event_ser_id, event_ser_manifest, event_payload,"
                    + " meta_ser_id, meta_ser_manifest, meta_payload FROM event_journal"
                    + " WHERE persistence_id = 'Instrument|ACME' AND sequence_number = ?")) {
          ps.setLong(1, last + i);
          ps.setLong(2, last);
          assertEquals(1, ps.executeUpdate());
        }
        out.add(new long[] {last + i});
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  private static boolean inReconciliationTail(DataSource db, String pid, long seq)
      throws Exception {
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM reconciliation_tail WHERE persistence_id = ? AND sequence_number = ?")) {
      ps.setString(1, pid);
      ps.setLong(2, seq);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) == 1;
      }
    }
  }

  private static JsonNode parse(String s) {
    try {
      return JSON.readTree(s);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
