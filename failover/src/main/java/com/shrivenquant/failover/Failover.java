package com.shrivenquant.failover;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.pubsub.Topic;
import com.shrivenquant.failover.durability.DurablePosition;
import com.shrivenquant.failover.durability.DurablePositionPublisher;
import com.shrivenquant.failover.durability.SyncAckWaiter;
import com.shrivenquant.failover.region.PrimacyAgent;
import com.shrivenquant.failover.region.RegionCoordinator;
import com.shrivenquant.failover.region.RegionCoordinatorActor;
import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failover on a node, one entry point ({@code Failover.get(system)}): the node's {@link
 * PrimacyAgent} (lease renewal, what the intake gate reads), sync acks, the region's coordinator
 * singleton, and what operator routes reach. An extension is per actor system, so two nodes in one
 * JVM (in-JVM multi-region tests) never share it. With failover disabled (single-region dev mode)
 * there is no agent and no coordinator.
 */
public final class Failover implements Extension {
  private static final Logger log = LoggerFactory.getLogger(Failover.class);

  private static final class Id extends ExtensionId<Failover> {
    @Override
    public Failover createExtension(ActorSystem<?> system) {
      return new Failover(system);
    }
  }

  private static final Id ID = new Id();

  public static Failover get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private final ActorSystem<?> system;
  private volatile boolean started;
  private volatile FailoverSettings settings;
  private volatile Optional<FailoverContext> context = Optional.empty();
  private volatile Optional<PrimacyAgent> agent = Optional.empty();
  private volatile Optional<SyncAckWaiter> syncAcks = Optional.empty();
  private volatile Optional<ActorRef<Topic.Command<DurablePosition>>> durablePositions =
      Optional.empty();
  private volatile Optional<ActorRef<RegionCoordinatorActor.Message>> coordinator =
      Optional.empty();

  private Failover(ActorSystem<?> system) {
    this.system = system;
  }

  /** Single-region mode: the node accepts without a lease. */
  public synchronized Failover startDisabled(FailoverSettings disabled) {
    requireNotStarted();
    log.warn(
        "Failover disabled: this node accepts orders without a primacy lease (single-region mode)");
    settings = disabled;
    started = true;
    return this;
  }

  /** Before the engine starts: the node's primacy agent and, in sync durability, the ack waiter. */
  public synchronized Failover start(FailoverContext ctx) {
    requireNotStarted();
    FailoverSettings s = ctx.settings();
    PrimacyAgent a = new PrimacyAgent(s, ctx.leases().get(), ctx.store()).start();
    // sync: acks wait for the publisher's durable position, told to every node of the region.
    Optional<ActorRef<Topic.Command<DurablePosition>>> positions =
        s.durability() == FailoverSettings.Durability.SYNC
            ? Optional.of(
                system.systemActorOf(
                    Topic.create(DurablePosition.class, DurablePosition.topicName(s.region())),
                    "durable-position-topic",
                    Props.empty()))
            : Optional.empty();
    Optional<SyncAckWaiter> acks =
        positions.map(
            topic -> new SyncAckWaiter(system, ctx.regionDb(), s.region(), topic, s.syncAck()));
    durablePositions = positions;
    settings = s;
    context = Optional.of(ctx);
    agent = Optional.of(a);
    syncAcks = acks;
    started = true;
    system
        .getWhenTerminated()
        .thenRun(
            () -> {
              a.close();
              acks.ifPresent(SyncAckWaiter::close);
              // Nodes started inside one JVM (tests, drills) must not leave their connections open.
              closePool(ctx.regionDb());
              synchronized (this) {
                context.flatMap(FailoverContext::peerDb).ifPresent(Failover::closePool);
              }
            });
    return this;
  }

  private static void closePool(DataSource db) {
    if (db instanceof HikariDataSource pool) pool.close();
  }

  /**
   * Once the engine runs: the region's coordinator singleton, which recovers entities with {@code
   * recovery} before a promotion lets orders in. The peer journal is opened now, as before.
   */
  public synchronized void startCoordinator(FailoverContext.EntityRecovery recovery) {
    if (context.isEmpty()) return;
    FailoverContext ctx =
        context.get().withPeerDb(FailoverContext.openPeerJournal(settings)).withRecovery(recovery);
    context = Optional.of(ctx);
    coordinator =
        Optional.of(
            RegionCoordinatorActor.init(
                system,
                () ->
                    new RegionCoordinator(
                        ctx,
                        durablePositions.map(
                            topic ->
                                new DurablePositionPublisher(
                                    system,
                                    settings.region(),
                                    topic,
                                    settings.syncAck().republishInterval())))));
  }

  private void requireNotStarted() {
    if (started) throw new IllegalStateException("failover already started on " + system.name());
  }

  /** Whether the node wired failover (enabled or not): readiness waits for it. */
  public boolean started() {
    return started;
  }

  /** Whether this node runs failover (a lease, an agent, a coordinator). */
  public boolean enabled() {
    return agent.isPresent();
  }

  public FailoverSettings settings() {
    return settings;
  }

  public Optional<PrimacyAgent> agent() {
    return agent;
  }

  /** Present in {@code sync} durability: acks wait until durable in the standby's Kafka. */
  public Optional<SyncAckWaiter> syncAcks() {
    return syncAcks;
  }

  public Optional<ActorRef<RegionCoordinatorActor.Message>> coordinator() {
    return coordinator;
  }

  public Optional<DataSource> regionDb() {
    return context.map(FailoverContext::regionDb);
  }

  /** The peer region's journal database, read only (when {@code peer-journal} is configured). */
  public Optional<DataSource> peerDb() {
    return context.flatMap(FailoverContext::peerDb);
  }

  /** An operator command to the region's coordinator singleton, wherever it runs. */
  public CompletionStage<RegionCoordinatorActor.Done> command(
      akka.japi.function.Function<
              ActorRef<RegionCoordinatorActor.Done>, RegionCoordinatorActor.Message>
          message,
      Duration timeout) {
    if (coordinator.isEmpty()) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("no region coordinator on this node yet"));
    }
    return AskPattern.ask(coordinator.get(), message, timeout, system.scheduler());
  }
}
