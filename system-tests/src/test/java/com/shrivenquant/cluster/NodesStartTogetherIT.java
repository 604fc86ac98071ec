package com.shrivenquant.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.shrivenquant.local.dev.LocalClusterLayout;
import com.shrivenquant.testkit.KafkaExtension;
import com.shrivenquant.testkit.infra.LocalPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 12, item 6: Kubernetes starts a region's pods in parallel, so every node of both regions
 * may migrate the same fresh databases (journal, region state, replication, witness) at the same
 * instant. Each round: fresh databases, all four nodes (two regions of two, failover on, in this
 * JVM) started at once from a barrier; every node must start and become ready.
 */
class NodesStartTogetherIT {
  private static final Logger log = LoggerFactory.getLogger(NodesStartTogetherIT.class);
  static final int ROUNDS = 20;
  static final int NODES_PER_REGION = 2;
  static final Duration READY = Duration.ofSeconds(60);

  @RegisterExtension static final KafkaExtension kafka = new KafkaExtension();

  static LocalPostgres postgres;

  /** The last rounds' nodes, terminating while the next round starts. */
  static CompletableFuture<?> stopping = CompletableFuture.completedFuture(null);

  /** A round's fresh databases: witness, region-1, region-2. */
  record Databases(
      LocalPostgres.Database witness, LocalPostgres.Database db1, LocalPostgres.Database db2) {
    static Databases create(int round) {
      return new Databases(
          postgres.createDatabase("r" + round + "_witness"),
          postgres.createDatabase("r" + round + "_region_1"),
          postgres.createDatabase("r" + round + "_region_2"));
    }
  }

  @BeforeAll
  static void startPostgres() {
    postgres = LocalPostgres.start();
  }

  @AfterAll
  static void stopPostgres() {
    if (postgres != null) postgres.close();
  }

  @Test
  void everyNodeOfBothRegionsStartsWhenAllStartAtOnce() throws Exception {
    List<String> failures = new ArrayList<>();
    long started = System.nanoTime();
    CompletableFuture<Databases> next = CompletableFuture.completedFuture(Databases.create(1));
    for (int round = 1; round <= ROUNDS; round++) {
      long t0 = System.nanoTime();
      Databases dbs = next.get(60, TimeUnit.SECONDS);
      // The next round's databases are made while this round's nodes start (about 1 s each).
      int following = round + 1;
      next =
          following <= ROUNDS
              ? CompletableFuture.supplyAsync(() -> Databases.create(following))
              : CompletableFuture.completedFuture(null);
      String failure = round(round, dbs);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      if (failure != null) failures.add("round " + round + ": " + failure);
      log.info(
          "Round {} of {}: {} ({} ms)",
          round,
          ROUNDS,
          failure == null ? "all nodes ready" : failure,
          ms);
    }
    stopping.get(60, TimeUnit.SECONDS);
    log.info(
        "{} rounds in {} ms, {} failed; {} connections open once all nodes stopped",
        ROUNDS,
        (System.nanoTime() - started) / 1_000_000,
        failures.size(),
        connections());
    assertEquals(List.of(), failures, failures.size() + " of " + ROUNDS + " rounds failed");
  }

  /** One round on fresh databases; null when every node became ready, else what went wrong. */
  private static String round(int round, Databases dbs) throws Exception {
    LocalPostgres.Database witness = dbs.witness();
    LocalPostgres.Database db1 = dbs.db1();
    LocalPostgres.Database db2 = dbs.db2();
    // Each round its own topics: a reused broker must not hand a region the last round's journal.
    String topics = "sq.journal.r" + round + ".";
    List<LocalClusterLayout> layouts =
        List.of(
            layout("region-1", "region-2", db1, db2, witness, topics),
            layout("region-2", "region-1", db2, db1, witness, topics));
    List<com.typesafe.config.Config> configs = new ArrayList<>();
    for (LocalClusterLayout l : layouts) {
      for (int i = 0; i < l.size(); i++) configs.add(l.config(i));
    }

    CyclicBarrier together = new CyclicBarrier(configs.size());
    ExecutorService starters = Executors.newFixedThreadPool(configs.size());
    ConcurrentLinkedQueue<NodeMain.Node> nodes = new ConcurrentLinkedQueue<>();
    List<Future<?>> starts = new ArrayList<>();
    for (com.typesafe.config.Config config : configs) {
      starts.add(
          starters.submit(
              () -> {
                together.await();
                nodes.add(NodeMain.start(config));
                return null;
              }));
    }
    List<String> problems = new ArrayList<>();
    try {
      for (Future<?> start : starts) {
        try {
          start.get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          problems.add("a node did not start: " + rootMessage(e.getCause()));
        }
      }
      if (problems.isEmpty()) {
        for (LocalClusterLayout l : layouts) {
          try {
            l.awaitReady(READY);
          } catch (IllegalStateException e) {
            problems.add(e.getMessage());
          }
        }
      }
    } finally {
      starters.shutdownNow();
      List<CompletableFuture<?>> stopped = new ArrayList<>();
      for (NodeMain.Node n : nodes) {
        n.system().terminate();
        stopped.add(n.system().getWhenTerminated().toCompletableFuture());
      }
      stopping =
          CompletableFuture.allOf(
              stopping, CompletableFuture.allOf(stopped.toArray(CompletableFuture[]::new)));
    }
    return problems.isEmpty() ? null : String.join("; ", problems);
  }

  private static LocalClusterLayout layout(
      String region,
      String peer,
      LocalPostgres.Database db,
      LocalPostgres.Database peerDb,
      LocalPostgres.Database witness,
      String topics) {
    return TwoRegionLayouts.failoverRegion(
            NODES_PER_REGION, region, peer, db, peerDb, witness, kafka.bootstrapServers())
        .with("shrivenquant.failover.replication.topic-prefix", topics)
        // Faster cluster formation, for a shorter round; the migrations run before it.
        .with("akka.management.cluster.bootstrap.contact-point-discovery.interval", "200ms")
        .with("akka.management.cluster.bootstrap.contact-point-discovery.stable-margin", "500ms")
        .with("akka.management.cluster.bootstrap.contact-point.probe-interval", "200ms");
  }

  /** Client connections to the server (stopped nodes must have closed theirs). */
  private static long connections() throws java.sql.SQLException {
    try (java.sql.Connection c = postgres.adminDataSource().getConnection();
        java.sql.ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String first = t.getClass().getSimpleName() + ": " + firstLine(t.getMessage());
    return root == t
        ? first
        : first
            + " (cause "
            + root.getClass().getSimpleName()
            + ": "
            + firstLine(root.getMessage())
            + ")";
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }
}
