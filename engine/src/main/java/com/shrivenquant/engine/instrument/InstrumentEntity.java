package com.shrivenquant.engine.instrument;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.persistence.typed.PersistenceId;
import com.shrivenquant.engine.CborSerializable;
import com.shrivenquant.engine.EngineSettings;
import com.shrivenquant.engine.EngineSettings.InstrumentSpec;
import com.shrivenquant.engine.core.CancelResult;
import com.shrivenquant.engine.core.EngineSnapshotBytes;
import com.shrivenquant.engine.core.Fill;
import com.shrivenquant.engine.core.InstrumentEngine;
import com.shrivenquant.engine.core.Level;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.OrderView;
import com.shrivenquant.engine.core.Outcome;
import com.shrivenquant.engine.core.PositionView;
import com.shrivenquant.engine.core.RejectReason;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * One sharded, event-sourced entity per instrument: its order book, the positions of every account
 * in it, its risk limits and its clientOrderId memory. The decisions are the plain-Java {@link
 * InstrumentEngine}'s; this class makes them durable.
 *
 * <p>Group commit: an event-sourced actor persists one command at a time, which would cap a hot
 * instrument at one journal commit per order. The sharded entity is therefore a small front actor
 * that queues mutations while a write is in flight and hands them to its journaling child as one
 * batch: one atomic multi-event persist, each order still answered with its own outcome. The front
 * is {@link GroupCommitter}, the child {@link InstrumentJournal}.
 *
 * <p>The messages and events stay nested here: Jackson's manifests are these class names, and
 * journals hold them.
 */
public final class InstrumentEntity {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "Instrument");

  private InstrumentEntity() {}

  // ---------------------------------------------------------------- protocol

  public interface Command extends CborSerializable {}

  /** Commands that change state; they are group-committed in arrival order. */
  public interface Mutation extends Command {}

  /**
   * @param traceParent the sender's trace context ({@link OrderTraces}), null when not traced; a
   *     node that predates it sends none, one that does not know it ignores it
   */
  public record Place(OrderRequest request, ActorRef<PlaceReply> replyTo, String traceParent)
      implements Mutation {
    public Place(OrderRequest request, ActorRef<PlaceReply> replyTo) {
      this(request, replyTo, null);
    }
  }

  public record Cancel(String account, long orderId, ActorRef<CancelReply> replyTo)
      implements Mutation {}

  public record GetOrder(long orderId, ActorRef<OrderReply> replyTo) implements Command {}

  public record GetOrderByClientId(
      String account, String clientOrderId, ActorRef<OrderReply> replyTo) implements Command {}

  public record GetDepth(int levels, ActorRef<DepthReply> replyTo) implements Command {}

  public record GetPosition(String account, ActorRef<PositionReply> replyTo) implements Command {}

  public record GetDigest(ActorRef<DigestReply> replyTo) implements Command {}

  /** Sharding's stop message: lets an in-flight write finish before the entity stops. */
  public enum Passivate implements Command {
    INSTANCE
  }

  public interface PlaceReply extends CborSerializable {}

  public record Placed(Outcome outcome) implements PlaceReply {}

  /** Nothing was persisted for this order; retrying with the same clientOrderId is safe. */
  public record NotPlaced(String reason) implements PlaceReply {}

  public record CancelReply(CancelResult result, String notDoneReason)
      implements CborSerializable {}

  public record OrderReply(Optional<OrderView> order) implements CborSerializable {}

  public record DepthReply(
      String instrument, List<Level> bids, List<Level> asks, Long lastTradePrice)
      implements CborSerializable {}

  public record PositionReply(String instrument, PositionView position)
      implements CborSerializable {}

  public record DigestReply(String instrument, String digest, long accepted, long rejected)
      implements CborSerializable {}

  // Between the front actor and its journaling child; never leaves the node.
  record WriteBatch(List<Mutation> items, ActorRef<Command> front) implements Command {}

  enum BatchWritten implements Command {
    INSTANCE
  }

  enum JournalStopped implements Command {
    INSTANCE
  }

  // ---------------------------------------------------------------- events

  public interface Event extends CborSerializable {}

  /**
   * Accepted by pre-trade risk and matched; fills are recorded and verified again on replay. The
   * effective price (a market order's protection price) is recorded because it depends on limits
   * that may change before a replay.
   */
  public record OrderAccepted(
      OrderRequest request, long orderId, long effectivePrice, List<Fill> fills, long timestamp)
      implements Event {}

  /** Refused by pre-trade risk: audited and counted like any other decision. */
  public record OrderRejected(OrderRequest request, RejectReason reason, long timestamp)
      implements Event {}

  public record OrderCancelled(String account, long orderId, long timestamp) implements Event {}

  // ---------------------------------------------------------------- state

  /**
   * The engine is mutable for speed. Live, the command handler decides by mutating it (so each
   * order in a batch sees the ones before it) and the event handler then skips those events; during
   * recovery the event handler replays them. A failed write stops the actor, and the next
   * incarnation rebuilds the state from the journal, so an unpersisted decision never survives.
   */
  public static final class State {
    final InstrumentEngine engine;
    private int decidedLive;

    State(InstrumentEngine engine) {
      this.engine = engine;
    }

    /** The command handler applied these many events already: the event handler skips them. */
    void decidedLive(int events) {
      decidedLive += events;
    }

    State apply(Event event) {
      if (decidedLive > 0) {
        decidedLive--;
        return this;
      }
      if (event instanceof OrderAccepted a) {
        Outcome replayed = engine.applyAccepted(a.request(), a.orderId(), a.effectivePrice());
        if (!replayed.fills().equals(a.fills())) {
          throw new IllegalStateException(
              "replay of order " + a.orderId() + " produced other fills than were journaled");
        }
      } else if (event instanceof OrderRejected r) {
        engine.applyRejected(r.request(), r.reason());
      } else if (event instanceof OrderCancelled c) {
        engine.cancel(c.account(), c.orderId());
      }
      return this;
    }
  }

  // ---------------------------------------------------------------- sharding

  public static ActorRef<ShardingEnvelope<Command>> init(
      ActorSystem<?> system, EngineSettings settings) {
    return init(system, settings, IntakeGate.OPEN);
  }

  public static ActorRef<ShardingEnvelope<Command>> init(
      ActorSystem<?> system, EngineSettings settings, IntakeGate gate) {
    return ClusterSharding.get(system)
        .init(
            Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), settings, gate))
                .withStopMessage(Passivate.INSTANCE));
  }

  /** The state a rehearsal recovered, as the snapshot the entity itself would write. */
  public record RehearsalSnapshot(String symbol, long sequenceNr, EngineSnapshotBytes snapshot) {}

  record TakeRehearsalSnapshot(ActorRef<RehearsalSnapshot> replyTo) implements Command {}

  /**
   * Recovers the instrument's state from the journal in a throw-away, read-only incarnation
   * (outside sharding; it writes nothing) and answers it as a snapshot. A standby rehearses this:
   * the recovery path (plugin queries, Jackson deserializers, the engine's replay) stays warm, and
   * the snapshot, stored in the standby's own snapshot store, bounds what a promotion replays.
   * Never run it where the instrument's entity is writing.
   */
  public static CompletionStage<RehearsalSnapshot> rehearseRecovery(
      ActorSystem<?> system, EngineSettings settings, String symbol, Duration timeout) {
    return RecoveryRehearsal.run(system, settings, symbol, timeout);
  }

  public static PersistenceId persistenceId(String symbol) {
    return PersistenceId.of(TYPE_KEY.name(), symbol);
  }

  static Behavior<Command> create(String symbol, EngineSettings settings) {
    return create(symbol, settings, IntakeGate.OPEN);
  }

  static Behavior<Command> create(String symbol, EngineSettings settings, IntakeGate gate) {
    Optional<InstrumentSpec> spec = settings.instrument(symbol);
    if (spec.isEmpty()) {
      // The order-entry side refuses unknown symbols before they get here.
      return Behaviors.stopped();
    }
    return Behaviors.setup(
        ctx -> {
          ActorRef<Command> journal =
              ctx.spawn(
                  new InstrumentJournal(
                      symbol,
                      spec.get(),
                      settings.snapshotEvery(),
                      settings.retainedCompletedOrders()),
                  "journal");
          ctx.watchWith(journal, JournalStopped.INSTANCE);
          return new GroupCommitter(ctx, journal, settings.maxBatch(), settings.maxQueue(), gate)
              .idle();
        });
  }
}
