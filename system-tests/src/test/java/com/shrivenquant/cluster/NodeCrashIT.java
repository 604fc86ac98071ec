package com.shrivenquant.cluster;

import static com.shrivenquant.cluster.http.OrderApiClient.get;
import static com.shrivenquant.cluster.http.OrderApiClient.limitOrder;
import static com.shrivenquant.cluster.http.OrderApiClient.placeUntilAnswered;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.shrivenquant.cluster.ops.OperatorApiClient;
import com.shrivenquant.local.dev.LocalClusterLayout;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.infra.ChildJvm;
import com.shrivenquant.testkit.infra.LocalPostgres;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three nodes as real processes on a real PostgreSQL. The oldest node (which also hosts the shard
 * coordinator, the harder case) is killed with SIGKILL; the split-brain resolver downs it; its
 * instruments serve again on the survivors with book, positions and clientOrderId memory intact.
 */
class NodeCrashIT {
  static final int NODES = 3;
  static final int INSTRUMENTS = 24;
  static final int SHARDS = 100; // akka.cluster.sharding.number-of-shards in reference.conf
  static LocalPostgres postgres;
  static LocalPostgres.Database db;
  static LocalClusterLayout layout;
  static final List<ChildJvm> nodes = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    postgres = LocalPostgres.start();
    db = postgres.createDatabase("crash");
    layout =
        LocalClusterLayout.allocate(
                NODES, new LocalClusterLayout.Journal(db.jdbcUrl(), db.user(), db.password()))
            .with("shrivenquant.engine.synthetic-instruments.count", Integer.toString(INSTRUMENTS));
    for (int i = 0; i < NODES; i++) {
      nodes.add(
          ChildJvm.builder("crash-node-" + i, NodeMain.class)
              .jvmOptions("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
              .systemProperties(layout.systemProperties(i))
              .start());
    }
    layout.awaitReady(Duration.ofSeconds(120));
  }

  @AfterAll
  static void stop() {
    nodes.forEach(n -> n.stop(Duration.ofSeconds(10)));
    if (postgres != null) postgres.close();
  }

  @Test
  void instrumentsOfAKilledNodeServeAgainWithStateIntact() throws Exception {
    List<String> symbols = new ArrayList<>();
    for (int i = 0; i < INSTRUMENTS; i++) symbols.add(String.format("SYM%03d", i));

    // Each instrument: a resting sell, partly filled by a buy; entered through different nodes.
    Map<String, JsonNode> takerOutcome = new HashMap<>();
    for (int i = 0; i < symbols.size(); i++) {
      String s = symbols.get(i);
      placeUntilAnswered(
          layout.httpBase(i % NODES),
          limitOrder(s, "maker", "m-" + s, "SELL", 10010, 10, "GTC"),
          Duration.ofSeconds(60));
      takerOutcome.put(
          s,
          placeUntilAnswered(
              layout.httpBase((i + 1) % NODES),
              limitOrder(s, "taker", "t-" + s, "BUY", 10010, 4, "GTC"),
              Duration.ofSeconds(60)));
      assertEquals("FILLED", takerOutcome.get(s).get("status").asText());
    }

    int victim = oldestNode(); // hosts the shard coordinator too: the slowest case
    Set<String> victimShards = new HashSet<>();
    for (JsonNode r :
        OperatorApiClient.get(
                layout.managementBase(victim), "/cluster/shards/Instrument", layout.operatorToken())
            .get("regions")) victimShards.add(r.get("shardId").asText());
    List<String> moved = symbols.stream().filter(s -> victimShards.contains(shardOf(s))).toList();
    assertFalse(moved.isEmpty(), "the victim hosts some of the instruments");

    int[] survivors = java.util.stream.IntStream.range(0, NODES).filter(i -> i != victim).toArray();
    URI survivor = layout.httpBase(survivors[0]);
    Map<String, String> before = new HashMap<>();
    for (String s : moved) before.put(s, observable(survivor, s));
    long journalBefore = journalRows();

    nodes.get(victim).kill9();
    long killedAt = System.nanoTime();

    // A probe that changes nothing: an IOC buy far below the ask is cancelled unfilled.
    // A client with a 200 ms timeout, retrying the same order: an attempt that went to the dead
    // node's shard would otherwise wait out the server's ask timeout (5 s) and hide the recovery.
    JsonNode probe =
        placeUntilAnswered(
            survivor,
            limitOrder(moved.get(0), "probe", "probe-1", "BUY", 9500, 1, "IOC"),
            Duration.ofSeconds(60),
            Duration.ofMillis(200));
    long movedMillis = (System.nanoTime() - killedAt) / 1_000_000;
    assertEquals("CANCELLED", probe.get("status").asText());
    System.out.printf(
        "NodeCrashIT: kill -9 of the oldest node %d (pid %d) -> first order acknowledged on moved instrument"
            + " %s after %d ms (target < 5000 ms); %d of %d instruments moved%n",
        victim, nodes.get(victim).pid(), moved.get(0), movedMillis, moved.size(), symbols.size());

    awaitDowned(victim, survivors[0], Duration.ofSeconds(30));

    for (String s : moved) {
      for (int node : survivors) {
        URI base = layout.httpBase(node);
        assertEquals(before.get(s), observable(base, s), "book and positions of " + s);
        JsonNode retry =
            placeUntilAnswered(
                base,
                limitOrder(s, "taker", "t-" + s, "BUY", 10010, 4, "GTC"),
                Duration.ofSeconds(30));
        assertEquals(takerOutcome.get(s), retry, "clientOrderId memory of " + s);
      }
    }
    assertEquals(
        journalBefore + 1, journalRows(), "only the probe was journaled; retries were not");
  }

  static int oldestNode() throws Exception {
    String oldest =
        OperatorApiClient.get(layout.managementBase(0), "/cluster/members", layout.operatorToken())
            .get("oldest")
            .asText();
    for (int i = 0; i < NODES; i++) {
      if (oldest.endsWith(":" + layout.ports(i).akka())) return i;
    }
    throw new AssertionError("oldest member " + oldest + " is none of ours");
  }

  /** The book and both accounts' positions, as the API shows them. */
  static String observable(URI base, String s) throws Exception {
    return get(base, "/api/v1/instruments/" + s + "/book?depth=10")
        + " "
        + get(base, "/api/v1/instruments/" + s + "/positions/maker")
        + " "
        + get(base, "/api/v1/instruments/" + s + "/positions/taker");
  }

  /** Akka's default shard extractor: abs(entityId.hashCode % number-of-shards). */
  static String shardOf(String entityId) {
    return Integer.toString(Math.abs(entityId.hashCode() % SHARDS));
  }

  static void awaitDowned(int victim, int survivor, Duration timeout) throws Exception {
    String victimAddress = "127.0.0.1:" + layout.ports(victim).akka();
    Eventually.await(
        "SBR downed and removed " + victimAddress,
        timeout,
        () ->
            OperatorApiClient.get(
                    layout.managementBase(survivor), "/cluster/members", layout.operatorToken())
                .get("members"),
        members -> {
          for (JsonNode m : members)
            if (m.get("node").asText().contains(victimAddress)) return false;
          return true;
        });
  }

  static long journalRows() {
    return db.countRows("event_journal");
  }
}
