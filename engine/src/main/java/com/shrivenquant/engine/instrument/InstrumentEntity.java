package com.shrivenquant.engine.instrument;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.SnapshotAdapter;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.Effect;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import com.shrivenquant.engine.CborSerializable;
import com.shrivenquant.engine.EngineSettings;
import com.shrivenquant.engine.EngineSettings.InstrumentSpec;
import com.shrivenquant.engine.core.CancelResult;
import com.shrivenquant.engine.core.EngineSnapshot;
import com.shrivenquant.engine.core.EngineSnapshotBytes;
import com.shrivenquant.engine.core.Fill;
import com.shrivenquant.engine.core.InstrumentEngine;
import com.shrivenquant.engine.core.Level;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.OrderView;
import com.shrivenquant.engine.core.Outcome;
import com.shrivenquant.engine.core.PositionView;
import com.shrivenquant.engine.core.RejectReason;
import com.shrivenquant.engine.core.Side;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import kamon.Kamon;
import kamon.metric.Gauge;
import kamon.trace.Span;

/**
 * One sharded, event-sourced entity per instrument: its order book, the positions of every account
 * in it, its risk limits and its clientOrderId memory. The decisions are the plain-Java {@link
 * InstrumentEngine}'s; this class makes them durable.
 *
 * <p>Group commit: an event-sourced actor persists one command at a time, which would cap a hot
 * instrument at one journal commit per order. The sharded entity is therefore a small front actor
 * that queues mutations while a write is in flight and hands them to its journaling child as one
 * batch: one atomic multi-event persist, each order still answered with its own outcome.
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
   * @param traceParent the sender's trace context ({@link OrderTraces}), null when not traced;
   *     a node that predates it sends none, one that does not know it ignores it
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

  public record CancelReply(CancelResult result, String notDoneReason) implements CborSerializable {}

  public record OrderReply(Optional<OrderView> order) implements CborSerializable {}

  public record DepthReply(
      String instrument, List<Level> bids, List<Level> asks, Long lastTradePrice)
      implements CborSerializable {}

  public record PositionReply(String instrument, PositionView position) implements CborSerializable {}

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
   * order in a batch sees the ones before it) and the event handler then skips those events;
   * during recovery the event handler replays them. A failed write stops the actor, and the next
   * incarnation rebuilds the state from the journal, so an unpersisted decision never survives.
   */
  public static final class State {
    final InstrumentEngine engine;
    private int decidedLive;

    State(InstrumentEngine engine) {
      this.engine = engine;
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
  public static java.util.concurrent.CompletionStage<RehearsalSnapshot> rehearseRecovery(
      ActorSystem<?> system, EngineSettings settings, String symbol, java.time.Duration timeout) {
    InstrumentSpec spec = settings.instrument(symbol)
        .orElseThrow(() -> new IllegalArgumentException("unknown instrument " + symbol));
    Behavior<Rehearsal> rehearsal = Behaviors.setup(ctx -> {
      ActorRef<Command> journal = ctx.spawn(
          Behaviors.<Command>setup(own -> new Journaled(
              symbol, spec, settings.snapshotEvery(), settings.retainedCompletedOrders(), own)),
          "journal");
      ActorRef<RehearsalSnapshot> recovered = ctx.messageAdapter(RehearsalSnapshot.class, Rehearsed::new);
      java.util.List<ActorRef<RehearsalSnapshot>> askers = new java.util.ArrayList<>();
      return Behaviors.receive(Rehearsal.class)
          .onMessage(Rehearse.class, ask -> {
            askers.add(ask.replyTo());
            journal.tell(new TakeRehearsalSnapshot(recovered));
            return Behaviors.same();
          })
          .onMessage(Rehearsed.class, done -> {
            askers.forEach(a -> a.tell(done.snapshot()));
            return Behaviors.stopped(); // stops the read-only incarnation with it
          })
          .build();
    });
    ActorRef<Rehearsal> ref = system.systemActorOf(rehearsal,
        "recovery-rehearsal-" + symbol + "-" + java.util.UUID.randomUUID(), akka.actor.typed.Props.empty());
    return akka.actor.typed.javadsl.AskPattern.ask(ref, Rehearse::new, timeout, system.scheduler());
  }

  private interface Rehearsal {}

  private record Rehearse(ActorRef<RehearsalSnapshot> replyTo) implements Rehearsal {}

  private record Rehearsed(RehearsalSnapshot snapshot) implements Rehearsal {}

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
                  new Journaled(
                      symbol, spec.get(), settings.snapshotEvery(), settings.retainedCompletedOrders()),
                  "journal");
          ctx.watchWith(journal, JournalStopped.INSTANCE);
          return new GroupCommitter(ctx, journal, settings.maxBatch(), settings.maxQueue(), gate).idle();
        });
  }

  // ---------------------------------------------------------------- front: group commit

  private static final class GroupCommitter {
    private final ActorContext<Command> ctx;
    private final ActorRef<Command> journal;
    private final int maxBatch;
    private final int maxQueue;
    private final IntakeGate gate;
    private final ArrayDeque<Mutation> queue = new ArrayDeque<>();
    private List<Mutation> inFlight = List.of();
    private boolean passivating;
    // Only sampled orders have spans: the unsampled majority never touches these.
    private final Map<Mutation, Span> spans = new IdentityHashMap<>();
    private Span writeSpan = OrderTraces.NONE;

    GroupCommitter(
        ActorContext<Command> ctx, ActorRef<Command> journal, int maxBatch, int maxQueue, IntakeGate gate) {
      this.ctx = ctx;
      this.gate = gate;
      this.journal = journal;
      this.maxBatch = maxBatch;
      this.maxQueue = maxQueue;
    }

    Behavior<Command> idle() {
      return Behaviors.receive(Command.class)
          .onMessage(Mutation.class, this::onMutation)
          .onMessageEquals(BatchWritten.INSTANCE, this::onBatchWritten)
          .onMessageEquals(JournalStopped.INSTANCE, this::onJournalStopped)
          .onMessageEquals(Passivate.INSTANCE, this::onPassivate)
          .onAnyMessage(
              read -> {
                journal.tell(read); // queries run after the write in flight
                return Behaviors.same();
              })
          .build();
    }

    private Behavior<Command> onMutation(Mutation m) {
      if (m instanceof Place p && p.traceParent() != null) {
        Span span = OrderTraces.start("instrument.place", p.traceParent(), ctx.getSelf().path().name());
        if (!span.isEmpty()) spans.put(m, span);
      }
      if (inFlight.isEmpty()) {
        write(List.of(m));
      } else if (queue.size() >= maxQueue) {
        refuse(m, "instrument overloaded: " + queue.size() + " orders waiting for the journal");
      } else {
        queue.add(m);
      }
      return Behaviors.same();
    }

    private Behavior<Command> onBatchWritten() {
      finishSpans(inFlight, null);
      inFlight = List.of();
      if (!queue.isEmpty()) {
        int n = Math.min(maxBatch, queue.size());
        List<Mutation> next = new ArrayList<>(n);
        for (int i = 0; i < n; i++) next.add(queue.poll());
        write(next);
        return Behaviors.same();
      }
      return passivating ? Behaviors.stopped() : Behaviors.same();
    }

    private Behavior<Command> onPassivate() {
      if (inFlight.isEmpty() && queue.isEmpty()) return Behaviors.stopped();
      passivating = true;
      return Behaviors.same();
    }

    private Behavior<Command> onJournalStopped() {
      // The journal write failed (or the child crashed): nothing in flight or queued was
      // acknowledged. Answer each so clients can retry with the same clientOrderId.
      String reason = "journal unavailable, order not persisted";
      ctx.getLog().warn("Journal of {} stopped; refusing {} orders", ctx.getSelf().path().name(),
          inFlight.size() + queue.size());
      inFlight.forEach(m -> refuse(m, reason));
      queue.forEach(m -> refuse(m, reason));
      finishSpans(inFlight, reason);
      finishSpans(queue, reason);
      return Behaviors.stopped();
    }

    private void write(List<Mutation> batch) {
      String closed = gate.refusal();
      if (closed != null) {
        // The region lost its right to write: refuse everything waiting, write nothing.
        batch.forEach(m -> refuse(m, closed));
        queue.forEach(m -> refuse(m, closed));
        finishSpans(batch, closed);
        finishSpans(queue, closed);
        queue.clear();
        return;
      }
      inFlight = batch;
      if (!spans.isEmpty()) writeSpan = startWriteSpan(batch);
      journal.tell(new WriteBatch(batch, ctx.getSelf()));
    }

    // One write carries several orders: child of the first traced one, linked to the others.
    private Span startWriteSpan(List<Mutation> batch) {
      Span parent = null;
      var builder = Kamon.internalSpanBuilder("instrument.journal-write", OrderTraces.COMPONENT)
          .tag("instrument", ctx.getSelf().path().name())
          .tag("orders", batch.size())
          .doNotTrackMetrics();
      for (Mutation m : batch) {
        Span s = spans.get(m);
        if (s == null) continue;
        if (parent == null) builder.asChildOf(parent = s);
        else builder.link(s, OrderTraces.FOLLOWS_FROM);
      }
      return parent == null ? OrderTraces.NONE : builder.start();
    }

    private void finishSpans(Iterable<Mutation> done, String failure) {
      if (spans.isEmpty()) return;
      for (Mutation m : done) {
        Span s = spans.remove(m);
        if (s == null) continue;
        if (failure != null) s.fail(failure);
        s.finish();
      }
      if (failure != null) writeSpan.fail(failure);
      writeSpan.finish();
      writeSpan = OrderTraces.NONE;
    }

    private static void refuse(Mutation m, String reason) {
      if (m instanceof Place p) p.replyTo().tell(new NotPlaced(reason));
      else if (m instanceof Cancel c) c.replyTo().tell(new CancelReply(null, reason));
    }
  }

  // ---------------------------------------------------------------- journaling child

  private static final class Journaled extends EventSourcedBehavior<Command, Event, State> {
    private final String symbol;
    private final InstrumentSpec spec;
    private final int snapshotEvery;
    private final int retainedCompletedOrders;
    // Only a rehearsal has it: it answers its sequence number with its snapshot.
    private final ActorContext<Command> rehearsal;
    // Null in a rehearsal: a read-only incarnation holds no orders of this node's.
    private final Gauge openOrders;

    Journaled(String symbol, InstrumentSpec spec, int snapshotEvery, int retainedCompletedOrders) {
      this(symbol, spec, snapshotEvery, retainedCompletedOrders, null);
    }

    Journaled(String symbol, InstrumentSpec spec, int snapshotEvery, int retainedCompletedOrders,
        ActorContext<Command> rehearsal) {
      super(InstrumentEntity.persistenceId(symbol));
      this.symbol = symbol;
      this.spec = spec;
      this.snapshotEvery = snapshotEvery;
      this.retainedCompletedOrders = retainedCompletedOrders;
      this.rehearsal = rehearsal;
      this.openOrders = rehearsal == null ? InstrumentMetrics.openOrders(symbol) : null;
    }

    @Override
    public State emptyState() {
      return new State(
          new InstrumentEngine(
              symbol, spec.referencePrice(), spec.limits(), retainedCompletedOrders));
    }

    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
      return newCommandHandlerBuilder()
          .forAnyState()
          .onCommand(WriteBatch.class, this::onWriteBatch)
          .onCommand(
              GetOrder.class,
              (s, c) -> reply(c.replyTo(), new OrderReply(s.engine.order(c.orderId()))))
          .onCommand(
              GetOrderByClientId.class,
              (s, c) ->
                  reply(
                      c.replyTo(),
                      new OrderReply(s.engine.orderByClientId(c.account(), c.clientOrderId()))))
          .onCommand(
              GetDepth.class,
              (s, c) ->
                  reply(
                      c.replyTo(),
                      new DepthReply(
                          symbol,
                          s.engine.depth(Side.BUY, c.levels()),
                          s.engine.depth(Side.SELL, c.levels()),
                          s.engine.lastTradePrice().isPresent()
                              ? s.engine.lastTradePrice().getAsLong()
                              : null)))
          .onCommand(
              GetPosition.class,
              (s, c) ->
                  reply(c.replyTo(), new PositionReply(symbol, s.engine.position(c.account()))))
          .onCommand(
              TakeRehearsalSnapshot.class,
              (st, c) -> {
                if (rehearsal == null) return Effect().unhandled();
                return reply(c.replyTo(), new RehearsalSnapshot(symbol, lastSequenceNumber(rehearsal),
                    new EngineSnapshotBytes(st.engine.snapshotBytes())));
              })
          .onCommand(
              GetDigest.class,
              (s, c) ->
                  reply(
                      c.replyTo(),
                      new DigestReply(
                          symbol, s.engine.stateDigest(), s.engine.accepted(), s.engine.rejected())))
          .build();
    }

    private <R> Effect<Event, State> reply(ActorRef<R> to, R reply) {
      to.tell(reply);
      return Effect().none();
    }

    private Effect<Event, State> onWriteBatch(State state, WriteBatch batch) {
      long now = System.currentTimeMillis();
      List<Event> events = new ArrayList<>(batch.items().size());
      List<Runnable> replies = new ArrayList<>(batch.items().size());
      for (Mutation m : batch.items()) {
        if (m instanceof Place p) {
          OrderRequest r = p.request();
          boolean repeat = state.engine.previousOutcome(r.account(), r.clientOrderId()).isPresent();
          long effectivePrice = state.engine.effectivePrice(r); // as place() will use it
          Outcome o = state.engine.place(r);
          if (!repeat) {
            events.add(
                o.rejectReason() != null
                    ? new OrderRejected(r, o.rejectReason(), now)
                    : new OrderAccepted(r, o.orderId(), effectivePrice, o.fills(), now));
          }
          replies.add(() -> p.replyTo().tell(new Placed(o)));
        } else if (m instanceof Cancel c) {
          CancelResult result = state.engine.cancel(c.account(), c.orderId());
          if (result.status() == CancelResult.Status.CANCELLED) events.add(new OrderCancelled(c.account(), c.orderId(), now));
          replies.add(() -> c.replyTo().tell(new CancelReply(result, null)));
        }
      }
      state.decidedLive += events.size();
      Runnable answer =
          () -> {
            replies.forEach(Runnable::run);
            batch.front().tell(BatchWritten.INSTANCE);
            InstrumentMetrics.journaled(events);
            openOrders.update(state.engine.openOrders());
          };
      if (events.isEmpty()) return Effect().none().thenRun(s -> answer.run());
      return Effect().persist(events).thenRun(s -> answer.run());
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
      return State::apply;
    }

    @Override
    public SnapshotAdapter<State> snapshotAdapter() {
      // Copy the mutable engine into an immutable byte array inside the actor, before it moves on:
      // one pass over the engine, no object graph; Jackson then writes it as one CBOR byte string.
      return new SnapshotAdapter<>() {
        @Override
        public Object toJournal(State state) {
          return new EngineSnapshotBytes(state.engine.snapshotBytes());
        }

        @Override
        public State fromJournal(Object from) {
          if (from instanceof EngineSnapshotBytes bytes) {
            return new State(
                InstrumentEngine.restoreBytes(
                    bytes.data(), spec.referencePrice(), spec.limits(), retainedCompletedOrders));
          }
          if (from instanceof EngineSnapshot records) {
            // Written before snapshots were binary; existing databases still hold them.
            return new State(
                InstrumentEngine.restore(
                    records, spec.referencePrice(), spec.limits(), retainedCompletedOrders));
          }
          throw new IllegalStateException(
              symbol + ": unknown snapshot type " + (from == null ? "null" : from.getClass().getName()));
        }
      };
    }

    @Override
    public RetentionCriteria retentionCriteria() {
      return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
    }

    @Override
    public SignalHandler<State> signalHandler() {
      return newSignalHandlerBuilder()
          .onSignal(
              RecoveryCompleted.instance(),
              s -> {
                if (openOrders != null) openOrders.update(s.engine.openOrders());
                // The digest hashes the whole state: only when asked for, not on every recovery.
                org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(InstrumentEntity.class);
                log.info("Instrument {} recovered: {} accepted, {} rejected",
                    symbol, s.engine.accepted(), s.engine.rejected());
                if (log.isDebugEnabled())
                  log.debug("Instrument {} state digest {}", symbol, s.engine.stateDigest());
              })
          .onSignal(akka.actor.typed.PostStop.instance(), s -> {
            // Zero, not removed: Kamon's Prometheus reporter would keep a removed series' last value.
            if (openOrders != null) openOrders.update(0);
          })
          .build();
    }
  }
}
