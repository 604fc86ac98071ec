package com.shrivenquant.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.Address;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ClusterEvent;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.infra.MultiNodeCluster;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * Nodes of an in-JVM cluster on the node's own cluster settings vanish without leaving (their
 * ActorSystems terminate with no coordinated shutdown, so no goodbye); on the surviving nodes, the
 * time from "unreachable" to "downed" must be stable-after plus at most a few decision intervals.
 * With Akka's own provider (a fixed 1 s tick) it is anywhere between stable-after and stable-after
 * + 1 s, so three crashes in a row pass this only by luck (~6 %).
 */
class PromptSplitBrainResolverProviderIT {
  static final int NODES = 6; // keep-majority still has a majority after three crashes
  static final int CRASHES = 3;

  @Test
  void downsACrashedNodeWithinADecisionIntervalOfStableAfter() throws InterruptedException {
    Config nodeConfig =
        ConfigFactory.parseResources("application.conf")
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    Duration stableAfter = nodeConfig.getDuration("akka.cluster.split-brain-resolver.stable-after");
    Config vanishes =
        ConfigFactory.parseString("akka.coordinated-shutdown.run-by-actor-system-terminate = off");

    try (MultiNodeCluster cluster =
        MultiNodeCluster.builder(NODES).baseConfig(nodeConfig).nodeConfig(i -> vanishes).start()) {
      // Per observing node: what it saw of each address.
      List<Map<Address, long[]>> seen = new ArrayList<>();
      for (int i = 0; i < NODES; i++) {
        Map<Address, long[]> view = new ConcurrentHashMap<>();
        seen.add(view);
        ActorRef<ClusterEvent.MemberEvent> recorder =
            cluster
                .testKit(i)
                .spawn(
                    Behaviors.receiveMessage(
                        e -> {
                          if (e instanceof ClusterEvent.MemberDowned d)
                            view.computeIfAbsent(d.member().address(), a -> new long[2])[1] =
                                System.nanoTime();
                          return Behaviors.same();
                        }));
        ActorRef<ClusterEvent.UnreachableMember> unreachable =
            cluster
                .testKit(i)
                .spawn(
                    Behaviors.receiveMessage(
                        e -> {
                          view.computeIfAbsent(e.member().address(), a -> new long[2])[0] =
                              System.nanoTime();
                          return Behaviors.same();
                        }));
        Cluster.get(cluster.system(i))
            .subscriptions()
            .tell(Subscribe.create(recorder, ClusterEvent.MemberEvent.class));
        Cluster.get(cluster.system(i))
            .subscriptions()
            .tell(Subscribe.create(unreachable, ClusterEvent.UnreachableMember.class));
      }

      List<Long> delays = new ArrayList<>();
      for (int crash = 0; crash < CRASHES; crash++) {
        int victim = NODES - 1 - crash;
        Address address = cluster.address(victim);
        cluster.stopNode(victim);
        // The delay is measured by the recorders' own event timestamps, not by this poll.
        long best =
            Eventually.await(
                "node " + victim + " downed",
                Duration.ofSeconds(30),
                () -> {
                  long fastest = Long.MAX_VALUE;
                  for (int i = 0; i < victim; i++) {
                    long[] s = seen.get(i).get(address);
                    if (s != null && s[0] != 0 && s[1] != 0)
                      fastest = Math.min(fastest, s[1] - s[0]);
                  }
                  return fastest;
                },
                fastest -> fastest != Long.MAX_VALUE);
        delays.add(best / 1_000_000);
        cluster.awaitMembersUp(victim, Duration.ofSeconds(30));
      }
      System.out.printf(
          "PromptSplitBrainResolverProviderIT: unreachable -> downed %s ms (stable-after %d ms)%n",
          delays, stableAfter.toMillis());
      long bound = stableAfter.toMillis() + 400;
      for (long d : delays)
        assertTrue(
            d < bound, "unreachable -> downed took " + delays + " ms; bound " + bound + " ms");
    }
  }
}
