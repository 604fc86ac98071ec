package com.shrivenquant.testkit;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorSystem;
import com.shrivenquant.testkit.infra.MultiNodeCluster;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A formed N-node Akka cluster per test class (see {@link MultiNodeCluster}): every node is Up
 * before the first test runs.
 *
 * <pre>{@code
 * @RegisterExtension static final ClusterExtension cluster = new ClusterExtension(3, nodeConfig);
 * cluster.testKit(1).spawn(...);  cluster.stopNode(2);  cluster.awaitMembersUp(2, Duration.ofSeconds(20));
 * }</pre>
 *
 * <p>The supplier and the per-node function are called in BeforeAll, so they can read a {@link
 * PostgresExtension} of the same class. The ActorSystem name defaults to the test class's simple
 * name.
 */
public final class ClusterExtension extends ClassScopedExtension {

  private final int size;
  private final Supplier<Config> baseConfig;
  private final IntFunction<Config> nodeConfig;
  private final String systemName;
  private final Duration formationTimeout;
  private volatile MultiNodeCluster cluster;

  public ClusterExtension(int size) {
    this(size, ConfigFactory::empty, i -> ConfigFactory.empty());
  }

  public ClusterExtension(int size, Config baseConfig) {
    this(size, () -> baseConfig, i -> ConfigFactory.empty());
  }

  public ClusterExtension(int size, Supplier<Config> baseConfig, IntFunction<Config> nodeConfig) {
    this(size, baseConfig, nodeConfig, null, Duration.ofSeconds(60));
  }

  /** {@code systemName} null: the test class's simple name. */
  public ClusterExtension(
      int size,
      Supplier<Config> baseConfig,
      IntFunction<Config> nodeConfig,
      String systemName,
      Duration formationTimeout) {
    if (size < 1) {
      throw new IllegalArgumentException("size must be >= 1, was " + size);
    }
    this.size = size;
    this.baseConfig = Objects.requireNonNull(baseConfig);
    this.nodeConfig = Objects.requireNonNull(nodeConfig);
    this.systemName = systemName;
    this.formationTimeout = Objects.requireNonNull(formationTimeout);
  }

  @Override
  protected void start(ExtensionContext context) {
    cluster =
        MultiNodeCluster.builder(size)
            .systemName(systemName != null ? systemName : systemNameFor(context))
            .baseConfig(baseConfig.get())
            .nodeConfig(nodeConfig)
            .formationTimeout(formationTimeout)
            .start();
  }

  @Override
  protected void stop() {
    MultiNodeCluster c = cluster;
    cluster = null;
    c.close();
  }

  public MultiNodeCluster cluster() {
    requireStarted();
    return cluster;
  }

  public int size() {
    return size;
  }

  public ActorSystem<Void> system(int node) {
    return cluster().system(node);
  }

  public List<ActorSystem<Void>> systems() {
    return cluster().systems();
  }

  public ActorTestKit testKit(int node) {
    return cluster().testKit(node);
  }

  public void stopNode(int node) {
    cluster().stopNode(node);
  }

  public boolean isRunning(int node) {
    return cluster().isRunning(node);
  }

  public void awaitMembersUp(int expected, Duration timeout) {
    cluster().awaitMembersUp(expected, timeout);
  }
}
