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
 * N cluster nodes as typed ActorSystems in this JVM, Artery TCP on free 127.0.0.1 ports, all seeded
 * by node 0. {@link Builder#start()} returns once every node sees every node Up.
 *
 * <p>Each node is an {@link ActorTestKit}, so tests can spawn actors and probes on any node.
 * Stopping a node terminates its ActorSystem, which leaves the cluster gracefully; a crash (no
 * goodbye) needs a separate process, see {@link ChildJvm}.
 */
public final class MultiNodeCluster implements AutoCloseable {

  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

  private final String systemName;
  private final List<Integer> ports;
  private final List<ActorTestKit> nodes;
  private final boolean[] stopped;

  private MultiNodeCluster(String systemName, List<Integer> ports, List<ActorTestKit> nodes) {
    this.systemName = systemName;
    this.ports = ports;
    this.nodes = nodes;
    this.stopped = new boolean[ports.size()];
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
    // Longer than the testkit's 10 s default: a graceful leave on a loaded machine can take that.
    ActorTestKit.shutdown(nodes.get(node).system(), STOP_TIMEOUT, true);
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
        List<Member> members =
            StreamSupport.stream(Cluster.get(system(i)).state().getMembers().spliterator(), false)
                .toList();
        long up = members.stream().filter(m -> m.status().equals(MemberStatus.up())).count();
        if (members.size() != expected || up != expected) {
          problems.add(
              "node "
                  + i
                  + " sees "
                  + members.stream()
                      .map(m -> m.address().port().getOrElse(() -> -1) + "=" + m.status())
                      .collect(Collectors.joining(", ", "[", "]")));
        }
      }
      if (problems.isEmpty()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "cluster "
                + systemName
                + " did not reach "
                + expected
                + " members Up within "
                + timeout
                + ": "
                + String.join("; ", problems));
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for cluster " + systemName, e);
      }
    }
  }

  /** Stops all nodes at once: sequentially, each would wait for its own graceful leave. */
  @Override
  public void close() {
    List<Thread> stoppers = new ArrayList<>();
    List<RuntimeException> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < nodes.size(); i++) {
      int node = i;
      Thread stopper =
          new Thread(
              () -> {
                try {
                  stopNode(node);
                } catch (RuntimeException e) {
                  failures.add(e);
                }
              },
              systemName + "-stop-" + node);
      stopper.start();
      stoppers.add(stopper);
    }
    for (Thread stopper : stoppers) {
      try {
        stopper.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while stopping cluster " + systemName, e);
      }
    }
    if (!failures.isEmpty()) {
      RuntimeException first = failures.get(0);
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
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
    private Duration formationTimeout = Duration.ofSeconds(60);

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

    /**
     * The node config under test; Akka's reference.conf is the only fallback (no application.conf).
     */
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
      List<Integer> ports = new ArrayList<>(FreePorts.freePorts(size));
      List<ActorTestKit> nodes = new ArrayList<>();
      MultiNodeCluster cluster = new MultiNodeCluster(systemName, ports, nodes);
      try {
        for (int i = 0; i < size; i++) {
          nodes.add(startNode(i, ports));
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

    /**
     * Retries on a fresh port if another process took ours; node 0 goes first, so the seed is
     * final.
     */
    private ActorTestKit startNode(int node, List<Integer> ports) {
      for (int attempt = 1; ; attempt++) {
        String seed = address(systemName, ports.get(0)).toString();
        try {
          return ActorTestKit.create(systemName, configFor(node, ports.get(node), seed));
        } catch (RuntimeException e) {
          if (attempt >= 3 || !isBindFailure(e)) {
            throw e;
          }
          ports.set(node, FreePorts.freePort());
        }
      }
    }

    private static boolean isBindFailure(Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof java.net.BindException) {
          return true;
        }
      }
      return false;
    }

    private Config configFor(int node, int port, String seed) {
      Config placement =
          ConfigFactory.empty()
              .withValue("akka.actor.provider", ConfigValueFactory.fromAnyRef("cluster"))
              .withValue(
                  "akka.remote.artery.canonical.hostname",
                  ConfigValueFactory.fromAnyRef("127.0.0.1"))
              .withValue("akka.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
              .withValue("akka.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of(seed)))
              // Several cluster nodes in one JVM register one MBean each; without this the 2nd
              // fails.
              .withValue(
                  "akka.cluster.jmx.multi-mbeans-in-same-jvm", ConfigValueFactory.fromAnyRef("on"));
      // A downed node must not take the test JVM with it.
      Config neverExitJvm =
          ConfigFactory.empty()
              .withValue(
                  "akka.coordinated-shutdown.exit-jvm", ConfigValueFactory.fromAnyRef("off"));
      return neverExitJvm
          .withFallback(nodeConfig.apply(node))
          .withFallback(placement)
          .withFallback(baseConfig);
    }
  }
}
