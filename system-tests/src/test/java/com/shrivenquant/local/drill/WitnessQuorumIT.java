package com.shrivenquant.local.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.shrivenquant.testkit.infra.EtcdCluster;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The witness of three under member death, with both regions running and orders flowing: one etcd
 * member (the leader, the worst case) killed -9 changes nothing for the regions; a second one takes
 * the quorum away, so region 1 can no longer renew and fences itself, and region 2 cannot take
 * the lease either; the members come back and a region is active again.
 */
class WitnessQuorumIT {
  private static final List<String> JVM =
      List.of("-Xmx320m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  private static final List<String> INSTRUMENTS = List.of("ACME", "SYM000", "SYM001");
  // fence-margin 1,400 ms after the start of the last renewal, renewals every 200 ms, plus 400 ms
  // for a loaded machine's scheduling: no order first sent later than this may be acknowledged.
  private static final long FENCED_WITHIN_MS = 2_000;

  @Test
  void oneMemberLostChangesNothingTwoStopTradingEverywhereUntilTheyReturn() throws Exception {
    try (DrillEnvironment env =
        DrillEnvironment.start(
            Files.createTempDirectory("witness-quorum-it-"), JVM, "sync", 3)) {
      EtcdCluster etcd = ((DrillWitness.Etcd) env.witness).cluster;
      long epoch = env.region1.status().path("epoch").asLong();
      try (DrillClient client =
          new DrillClient(env.clientEndpoint(), INSTRUMENTS, 4, 60, "quorum").start()) {
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
            "witness-quorum-it | first member killed at +0 ms (leader %d), second at +%d ms; acks"
                + " resumed after the members returned; failed attempts overall %d%n",
            first, killedSecond - killedFirst, client.failedAttempts());
      }
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
  private static boolean awaitAcksSince(
      DrillClient client, long since, int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (client.acks().stream().filter(a -> a.ackedAt() >= since).count() >= count) return true;
      Thread.sleep(100);
    }
    return false;
  }
}
