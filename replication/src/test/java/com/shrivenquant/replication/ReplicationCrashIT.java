package com.shrivenquant.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.KafkaExtension;
import com.shrivenquant.testkit.PostgresExtension;
import com.shrivenquant.testkit.infra.ChildJvm;
import com.shrivenquant.testkit.infra.FreePorts;
import com.shrivenquant.testkit.infra.LocalPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Writers keep writing region 1's journal while, in turn, the publisher process is killed with
 * SIGKILL and restarted, then the applier process, then the broker restarts, then region 2's
 * PostgreSQL restarts. Replication resumes by itself after each, and at the end region 2's journal
 * holds every row of region 1's exactly once, byte-identical.
 */
class ReplicationCrashIT {
  static final String TOPIC = "journal-crash";

  @RegisterExtension
  @Order(1)
  static final PostgresExtension region1 =
      new PostgresExtension("region1", JournalFixtures::migrate);

  @RegisterExtension
  @Order(2)
  static final KafkaExtension kafka = new KafkaExtension();

  static Path region2Data;
  static int region2Port;
  static LocalPostgres region2;
  static LocalPostgres.Database db2;
  static final List<ChildJvm> agents = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    kafka.broker().createTopic(TOPIC, 4);
    region2Data = Files.createTempDirectory("region2-pg");
    region2Port = FreePorts.freePort();
    region2 = startRegion2();
    db2 = region2.createDatabase("region2");
    JournalFixtures.migrate(db2.dataSource());
  }

  static LocalPostgres startRegion2() {
    return LocalPostgres.builder()
        .name("crash-region2")
        .dataDirectory(region2Data)
        .port(region2Port)
        .start();
  }

  @AfterAll
  static void stop() {
    agents.forEach(a -> a.stop(Duration.ofSeconds(5)));
    if (region2 != null) region2.close();
  }

  static ChildJvm agent(String mode, LocalPostgres.Database db) {
    ChildJvm jvm =
        ChildJvm.builder("replication-" + mode, ReplicationAgent.class)
            .jvmOptions("-Xmx256m", "-XX:TieredStopAtLevel=1")
            .systemProperty("sq.replication.mode", mode)
            .systemProperty("sq.replication.jdbc-url", db.jdbcUrl())
            .systemProperty("sq.replication.jdbc-user", db.user())
            .systemProperty("sq.replication.jdbc-password", db.password())
            .systemProperty("sq.replication.bootstrap-servers", kafka.bootstrapServers())
            .systemProperty("sq.replication.topic", TOPIC)
            .start();
    jvm.awaitLogLine(Pattern.compile("replication agent started"), Duration.ofSeconds(60));
    agents.add(jvm);
    return jvm;
  }

  /** Region 2's journal grows by a good step: the whole path runs again. */
  static void replicates(String when) throws InterruptedException {
    long before = db2Rows();
    Eventually.await(
        "replicating " + when,
        Duration.ofSeconds(60),
        ReplicationCrashIT::db2Rows,
        n -> n >= before + 200);
  }

  /** Region 1's writers keep writing while a part of the path is down. */
  static void writesWhileDown(String what) throws InterruptedException {
    long before = region1.countRows("event_journal");
    Eventually.await(
        "region 1 writing while the " + what + " is down",
        Duration.ofSeconds(30),
        () -> region1.countRows("event_journal"),
        n -> n >= before + 100);
  }

  // 0 while region 2's PostgreSQL restarts.
  static long db2Rows() {
    try {
      return db2.countRows("event_journal");
    } catch (RuntimeException down) {
      return 0;
    }
  }

  @Test
  void killedPublisherAndApplierRestartedBrokerAndStandbyDatabaseNoGapNoDuplicate()
      throws Exception {
    // Paced (up to 40 ms inside each transaction): each step below waits for replication to
    // resume (a consumer group rebalance takes seconds), and every row written meanwhile must be
    // caught up at the end.
    JournalWriters writers = JournalWriters.start(region1.dataSource(), 8, 5, 0, 40);

    ChildJvm publisher = agent("publish", region1.database());
    ChildJvm applier = agent("apply", db2);
    replicates("at first");
    publisher.kill9();
    writesWhileDown("publisher");
    publisher = agent("publish", region1.database());
    replicates("after the publisher's restart");
    applier.kill9();
    writesWhileDown("applier");
    applier = agent("apply", db2);
    replicates("after the applier's restart");
    kafka.broker().restart();
    replicates("after the broker's restart");
    region2.close();
    writesWhileDown("standby PostgreSQL");
    region2 = startRegion2();
    replicates("after the standby PostgreSQL's restart");
    assertEquals(List.of(), writers.stopAndJoin());

    // However many rows the writers got in, region 2 must keep catching up until it has them all:
    // a stall of 30 s fails.
    long rows = region1.countRows("event_journal");
    for (long seen = db2Rows(); seen < rows; ) {
      long from = seen;
      seen =
          Eventually.await(
              "region 2 catching up from " + from + " of " + rows + " rows",
              Duration.ofSeconds(30),
              ReplicationCrashIT::db2Rows,
              n -> n > from);
    }
    Map<String, byte[]> source = JournalFixtures.payloads(region1.dataSource());
    Map<String, byte[]> replica = JournalFixtures.payloads(db2.dataSource());
    assertEquals(source.keySet(), replica.keySet(), "no gap");
    for (Map.Entry<String, byte[]> e : source.entrySet())
      assertArrayEquals(e.getValue(), replica.get(e.getKey()), e.getKey());
    assertEquals(rows, db2.countRows("event_journal"), "no duplicate");
    System.out.printf(
        "ReplicationCrashIT: %d rows through a killed publisher, a killed applier, a broker"
            + " restart and a standby PostgreSQL restart: none missing, none twice%n",
        rows);
  }
}
