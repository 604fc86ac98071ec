package com.shrivenquant.failover.region;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.SingletonActor;
import java.util.function.Supplier;

/**
 * Places the {@link RegionCoordinator} as a cluster singleton: exactly one per region, moved to a
 * surviving node by SBR when its node dies. Operator commands reach it through the singleton proxy.
 */
public final class RegionCoordinatorActor {
  private RegionCoordinatorActor() {}

  /** Messages may cross nodes: Jackson CBOR (bound in reference.conf). */
  public interface Message extends FailoverSerializable {}

  /** Planned switchover, on the ACTIVE region. */
  public record Switchover(String requestedBy, ActorRef<Done> replyTo) implements Message {}

  /**
   * Forced promotion by an operator, on the STANDBY region (see {@link
   * RegionCoordinator#forcePromote}).
   */
  public record ForcePromote(String requestedBy, ActorRef<Done> replyTo) implements Message {}

  /** Emergency stop by an operator, on the ACTIVE region (see {@link RegionCoordinator#fence}). */
  public record Fence(String requestedBy, ActorRef<Done> replyTo) implements Message {}

  public record GetReplicationStatus(ActorRef<ReplicationStatus> replyTo) implements Message {}

  /**
   * @param epoch switchover: the epoch handed over; forced promotion: the new epoch; fence: the
   *     epoch fenced
   * @param error empty when done
   */
  public record Done(long epoch, String error) implements FailoverSerializable {}

  public static ActorRef<Message> init(ActorSystem<?> system, Supplier<RegionCoordinator> factory) {
    return ClusterSingleton.get(system)
        .init(
            SingletonActor.of(create(factory), "region-coordinator")
                .withStopMessage(new Switchover("stop", null)));
  }

  static Behavior<Message> create(Supplier<RegionCoordinator> factory) {
    return Behaviors.setup(
        ctx -> {
          RegionCoordinator coordinator = factory.get().start();
          return Behaviors.receive(Message.class)
              .onMessage(
                  Switchover.class,
                  m -> {
                    if (m.replyTo() == null)
                      return Behaviors.stopped(); // hand-over of the singleton
                    reply(coordinator.switchover(m.requestedBy()), m.replyTo());
                    return Behaviors.same();
                  })
              .onMessage(
                  ForcePromote.class,
                  m -> {
                    reply(coordinator.forcePromote(m.requestedBy()), m.replyTo());
                    return Behaviors.same();
                  })
              .onMessage(
                  Fence.class,
                  m -> {
                    reply(coordinator.fence(m.requestedBy()), m.replyTo());
                    return Behaviors.same();
                  })
              .onMessage(
                  GetReplicationStatus.class,
                  m -> {
                    // Database reads: off the actor's dispatcher.
                    java.util.concurrent.CompletableFuture.runAsync(
                        () -> {
                          try {
                            m.replyTo().tell(coordinator.replicationStatus());
                          } catch (java.sql.SQLException e) {
                            ctx.getLog().warn("Replication status unavailable: {}", e.getMessage());
                          }
                        },
                        ctx.getSystem()
                            .dispatchers()
                            .lookup(akka.actor.typed.DispatcherSelector.blocking()));
                    return Behaviors.same();
                  })
              .onSignal(
                  PostStop.class,
                  s -> {
                    coordinator.close();
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private static void reply(
      java.util.concurrent.CompletionStage<Long> result, ActorRef<Done> replyTo) {
    result.whenComplete(
        (epoch, e) ->
            replyTo.tell(
                e == null
                    ? new Done(epoch, "")
                    : new Done(
                        0,
                        String.valueOf(
                            (e instanceof java.util.concurrent.CompletionException
                                        && e.getCause() != null
                                    ? e.getCause()
                                    : e)
                                .getMessage()))));
  }
}
