package com.shrivenquant.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterExtensionTest {

  @RegisterExtension
  static final ClusterExtension cluster =
      new ClusterExtension(
          3,
          () ->
              ConfigFactory.parseString(
                  """
          akka.loglevel = WARNING
          akka.actor.allow-java-serialization = off
          akka.remote.artery.canonical.port = 2552  # replaced by a free port per node
          """),
          node -> ConfigFactory.parseString("akka.cluster.roles = [node-" + node + "]"));

  @Test
  @Order(1)
  void allNodesAreUpInOneCluster() {
    for (var system : cluster.systems()) {
      var state = Cluster.get(system).state();
      assertEquals(3, state.members().size());
      state.getMembers().forEach(m -> assertEquals(MemberStatus.up(), m.status()));
      assertEquals("ClusterExtensionTest", system.name());
    }
    IntStream.range(0, 3)
        .forEach(
            i -> {
              var self = Cluster.get(cluster.system(i)).selfMember();
              assertEquals(cluster.cluster().address(i), self.address());
              assertEquals(true, self.hasRole("node-" + i));
            });
  }

  @Test
  @Order(2)
  void stoppedNodeLeavesTheCluster() {
    cluster.stopNode(2);
    assertFalse(cluster.isRunning(2));
    cluster.awaitMembersUp(2, Duration.ofSeconds(20));
  }
}
