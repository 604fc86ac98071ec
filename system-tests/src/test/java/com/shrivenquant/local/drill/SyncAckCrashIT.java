package com.shrivenquant.local.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.instrument.InstrumentEntity;
import com.shrivenquant.replication.journal.JournalRow;
import com.shrivenquant.replication.journal.RecordCodec;
import com.shrivenquant.testkit.Eventually;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * {@code sync} acknowledgements under process death: no order is ever acknowledged whose event is
 * not in the broker. Region 1's nodes store the publisher's position only every 10 minutes, so
 * every acknowledgement in the test is released between the broker's ack and the position store;
 * the broker link is cut for a while under load; then a waiting node and the publisher's node are
 * killed (-9). Afterwards the region's topic is read back and every acknowledged order must be in
 * it. The same check on an {@code async} region whose broker link was cut (acks released at the
 * local commit, before the broker has the record: "early" on purpose) must find orders missing, so
 * the check is shown able to fail.
 */
class SyncAckCrashIT {
  private static final List<String> JVM =
      List.of("-Xmx320m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  private static final List<String> INSTRUMENTS = List.of("ACME", "SYM000", "SYM001");
  // The position is stored for restarts only long after the test: every ack precedes it.
  private static final Map<String, String> POSITION_NEVER_STORED =
      Map.of("shrivenquant.replication.publisher.position-store-interval", "10m");

  @Test
  void noSyncAckIsReleasedForARecordTheBrokerDoesNotHaveThroughACutAndTwoKills() throws Exception {
    try (DrillEnvironment env = start("sync")) {
      DrillClient client = new DrillClient(env.clientEndpoint(), INSTRUMENTS, 4, 80, "sync-crash");
      client.start();
      awaitAcks(client, 100);
      long stored = storedPosition(env);
      long head = journalHead(env);
      assertTrue(
          stored + 100 <= head,
          "acks released while the stored position lags: stored " + stored + ", head " + head);

      env.kafkaFromR1.blackhole(); // the WAN to the broker is cut: acks must wait, not pass
      Thread.sleep(
          2_000); // how long the cut lasts (a fault's duration, not a wait for a condition)
      env.kafkaFromR1.restore();
      awaitAcks(client, client.acks().size() + 50);

      int publisher = publisherNode(env);
      env.region1.nodes.get(1 - publisher).kill9(); // a node with acks waiting
      Thread.sleep(1_000); // the fault's duration: orders keep arriving at the surviving node
      env.region1.nodes.get(publisher).kill9(); // the publisher's, between broker ack and store
      client.close();

      List<DrillClient.Ack> fromRegion1 = acksOf(client, "region-1");
      Set<String> missing = missingFromBroker(env, fromRegion1);
      System.out.println(
          "sync-crash | "
              + fromRegion1.size()
              + " acks from region-1, missing from the broker: "
              + missing.size());
      assertTrue(fromRegion1.size() >= 150, "orders were acknowledged: " + fromRegion1.size());
      assertEquals(Set.of(), missing, "acknowledged but not in the broker");
    }
  }

  @Test
  void theCheckFindsAcksReleasedBeforeTheBrokerHadThem() throws Exception {
    try (DrillEnvironment env = start("async")) {
      DrillClient client = new DrillClient(env.clientEndpoint(), INSTRUMENTS, 4, 80, "async-early");
      client.start();
      awaitAcks(client, 100);
      env.kafkaFromR1.blackhole();
      int before = client.acks().size();
      awaitAcks(client, before + 50); // acknowledged at the local commit, the broker cut off
      env.region1.kill9();
      client.close();

      Set<String> missing = missingFromBroker(env, acksOf(client, "region-1"));
      System.out.println("async-early | missing from the broker: " + missing.size());
      assertTrue(missing.size() >= 10, "the check sees acks the broker never got: " + missing);
    }
  }

  private static DrillEnvironment start(String durability) throws Exception {
    Path work = Files.createTempDirectory("sync-crash-it-");
    return DrillEnvironment.start(
        work,
        JVM,
        durability,
        5,
        DrillEnvironment.Options.defaults().withRegion1Properties(POSITION_NEVER_STORED));
  }

  private static void awaitAcks(DrillClient client, int atLeast) throws Exception {
    Eventually.await(
        atLeast + " acknowledged orders",
        Duration.ofSeconds(90),
        () -> client.acks().size() >= atLeast);
  }

  private static List<DrillClient.Ack> acksOf(DrillClient client, String region) {
    return client.acks().stream().filter(a -> a.region().equals(region)).toList();
  }

  /** The region-1 node whose log says it runs the publisher (the coordinator's node). */
  private static int publisherNode(DrillEnvironment env) throws Exception {
    for (int i = 0; i < 2; i++) {
      Path log = env.logs().resolve("region-1-node-" + (i + 1) + ".log");
      if (Files.exists(log) && Files.readString(log).contains("Publishing region-1's journal"))
        return i;
    }
    throw new AssertionError("no region-1 node logged that it publishes the journal");
  }

  private static long storedPosition(DrillEnvironment env) throws Exception {
    return single(
        env,
        "SELECT coalesce(max(last_ordering), 0) FROM replication_publisher_position"
            + " WHERE publisher_id = 'region-1'");
  }

  private static long journalHead(DrillEnvironment env) throws Exception {
    return single(env, "SELECT coalesce(max(ordering), 0) FROM event_journal");
  }

  private static long single(DrillEnvironment env, String sql) throws Exception {
    try (Connection c = env.region1.db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The acknowledged orders whose decision is not among region 1's records in the broker. */
  private static Set<String> missingFromBroker(DrillEnvironment env, List<DrillClient.Ack> acks) {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(env.local));
    Set<String> inBroker = new HashSet<>();
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, env.kafka.bootstrapServers());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor("sq.journal.region-1").stream()
              .map(i -> new TopicPartition(i.topic(), i.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          JournalRow row = RecordCodec.fromRecord(r).row();
          if (!row.persistenceId().startsWith("Instrument|")) continue;
          Object event =
              serialization.deserialize(row.payload(), row.serId(), row.serManifest()).get();
          OrderRequest o = null;
          if (event instanceof InstrumentEntity.OrderAccepted a) o = a.request();
          else if (event instanceof InstrumentEntity.OrderRejected x) o = x.request();
          if (o != null) inBroker.add(o.account() + "/" + o.clientOrderId());
        }
      }
    }
    Set<String> missing = new HashSet<>();
    for (DrillClient.Ack a : acks) {
      if (!inBroker.contains(a.account() + "/" + a.clientOrderId())) missing.add(a.clientOrderId());
    }
    return missing;
  }
}
