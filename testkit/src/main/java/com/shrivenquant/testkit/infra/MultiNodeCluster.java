package com.shrivenquant.testkit.infra;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * N cluster nodes as typed ActorSystems in this JVM, Artery TCP on free 127.0.0.1 ports, all
 * seeded by node 0. {@link Builder#start()} returns once every node sees every node Up.
 *
 * <p>Each node is an {@link ActorTestKit}, so tests can spawn actors and probes on any node.
 * Stopping a node terminates its ActorSystem, which leaves the cluster gracefully; a crash (no
 * goodbye) needs a separate process, see {@link ChildJvm}.
 */
public final class MultiNodeCluster implements AutoCloseable {

  private final String systemName;
  private final List<Integer> ports;
  private final List<ActorTestKit> nodes;
  private final boolean[] stopped;

  private MultiNodeCluster(String systemName, List<Integer> ports, List<ActorTestKit> nodes) {
    this.systemName = systemName;
    this.ports = ports;
    this.nodes = nodes;
    this.stopped = new boolean[nodes.size()];
  }

  public static Builder builder(int size) {
    return new Builder(size);
  }

  public int size() {
    return nodes.size();
  }

  public String systemName() {
    return systemName;
  }

  public ActorSystem<Void> system(int node) {
    return nodes.get(node).system();
  }

  /** All nodes in index order, stopped ones included (they are terminated). */
  public List<ActorSystem<Void>> systems() {
    return nodes.stream().map(ActorTestKit::system).toList();
  }

  public ActorTestKit testKit(int node) {
    return nodes.get(node);
  }

  public int port(int node) {
    return ports.get(node);
  }

  public Address address(int node) {
    return address(systemName, ports.get(node));
  }

  public synchronized boolean isRunning(int node) {
    return !stopped[node];
  }

  /** Terminates one node's ActorSystem (it leaves the cluster) and waits until it has stopped. */
  public void stopNode(int node) {
    synchronized (this) {
      if (stopped[node]) {
        return;
      }
      stopped[node] = true;
    }
    nodes.get(node).shutdownTestKit();
  }

  /** Waits until every running node sees exactly {@code expected} members, all Up. */
  public void awaitMembersUp(int expected, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<String> problems = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        if (!isRunning(i)) {
          continue;
        }
        List<Member> members = StreamSupport
            .stream(Cluster.get(system(i)).state().getMembers().spliterator(), false)
            .toList();
        long up = members.stream().filter(m -> m.status().equals(MemberStatus.up())).count();
        if (members.size() != expected || up != expected) {
          problems.add("node " + i + " sees " + members.stream()
              .map(m -> m.address().port().getOrElse(() -> -1) + "=" + m.status())
              .collect(Collectors.joining(", ", "[", "]")));
        }
      }
      if (problems.isEmpty()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("cluster " + systemName + " did not reach " + expected
            + " members Up within " + timeout + ": " + String.join("; ", problems));
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for cluster " + systemName, e);
      }
    }
  }

  @Override
  public void close() {
    RuntimeException first = null;
    // Highest index first: the seed node goes last, so the others can still leave through it.
    for (int i = nodes.size() - 1; i >= 0; i--) {
      try {
        stopNode(i);
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static Address address(String systemName, int port) {
    return new Address("akka", systemName, "127.0.0.1", port);
  }

  public static final class Builder {
    private final int size;
    private String systemName = "ShrivenQuant";
    private Config baseConfig = ConfigFactory.empty();
    private IntFunction<Config> nodeConfig = i -> ConfigFactory.empty();
    private Duration formationTimeout = Duration.ofSeconds(30);

    private Builder(int size) {
      if (size < 1) {
        throw new IllegalArgumentException("size must be >= 1, was " + size);
      }
      this.size = size;
    }

    /** Every node must share it, or they cannot join. Default {@code ShrivenQuant}. */
    public Builder systemName(String systemName) {
      this.systemName = Objects.requireNonNull(systemName);
      return this;
    }

    /** The node config under test; Akka's reference.conf is the only fallback (no application.conf). */
    public Builder baseConfig(Config baseConfig) {
      this.baseConfig = Objects.requireNonNull(baseConfig);
      return this;
    }

    /** Per-node overrides (roles, a region, a port of its own...); wins over everything else. */
    public Builder nodeConfig(IntFunction<Config> nodeConfig) {
      this.nodeConfig = Objects.requireNonNull(nodeConfig);
      return this;
    }

    public Builder formationTimeout(Duration formationTimeout) {
      this.formationTimeout = Objects.requireNonNull(formationTimeout);
      return this;
    }

    public MultiNodeCluster start() {
      List<Integer> ports = FreePorts.freePorts(size);
      String seed = address(systemName, ports.get(0)).toString();
      List<ActorTestKit> nodes = new ArrayList<>();
      MultiNodeCluster cluster = new MultiNodeCluster(systemName, ports, nodes);
      try {
        for (int i = 0; i < size; i++) {
          nodes.add(ActorTestKit.create(systemName, configFor(i, ports.get(i), seed)));
        }
        cluster.awaitMembersUp(size, formationTimeout);
        return cluster;
      } catch (RuntimeException e) {
        try {
          cluster.close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      }
    }

    private Config configFor(int node, int port, String seed) {
      Config placement = ConfigFactory.empty()
          .withValue("akka.actor.provider", ConfigValueFactory.fromAnyRef("cluster"))
          .withValue("akka.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef("127.0.0.1"))
          .withValue("akka.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
          .withValue("akka.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of(seed)))
          // Several cluster nodes in one JVM register one MBean each; without this the 2nd fails.
          .withValue("akka.cluster.jmx.multi-mbeans-in-same-jvm", ConfigValueFactory.fromAnyRef("on"));
      // A downed node must not take the test JVM with it.
      Config neverExitJvm = ConfigFactory.empty()
          .withValue("akka.coordinated-shutdown.exit-jvm", ConfigValueFactory.fromAnyRef("off"));
      return neverExitJvm
          .withFallback(nodeConfig.apply(node))
          .withFallback(placement)
          .withFallback(baseConfig);
    }
  }
}
