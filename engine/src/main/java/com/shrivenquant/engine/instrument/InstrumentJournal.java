package com.shrivenquant.engine.instrument;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.ActorContext;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.SnapshotAdapter;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.Effect;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import com.shrivenquant.engine.EngineSettings.InstrumentSpec;
import com.shrivenquant.engine.core.CancelResult;
import com.shrivenquant.engine.core.EngineSnapshot;
import com.shrivenquant.engine.core.EngineSnapshotBytes;
import com.shrivenquant.engine.core.InstrumentEngine;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.Outcome;
import com.shrivenquant.engine.core.Side;
import com.shrivenquant.engine.instrument.InstrumentEntity.BatchWritten;
import com.shrivenquant.engine.instrument.InstrumentEntity.Cancel;
import com.shrivenquant.engine.instrument.InstrumentEntity.CancelReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.Command;
import com.shrivenquant.engine.instrument.InstrumentEntity.DepthReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.DigestReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.Event;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetDepth;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetDigest;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetOrder;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetOrderByClientId;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetPosition;
import com.shrivenquant.engine.instrument.InstrumentEntity.Mutation;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderAccepted;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderCancelled;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderRejected;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.Place;
import com.shrivenquant.engine.instrument.InstrumentEntity.Placed;
import com.shrivenquant.engine.instrument.InstrumentEntity.PositionReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.RehearsalSnapshot;
import com.shrivenquant.engine.instrument.InstrumentEntity.State;
import com.shrivenquant.engine.instrument.InstrumentEntity.TakeRehearsalSnapshot;
import com.shrivenquant.engine.instrument.InstrumentEntity.WriteBatch;
import java.util.ArrayList;
import java.util.List;
import kamon.metric.Gauge;

/**
 * The entity's journaling child: the event-sourced actor that decides each batch with the {@link
 * InstrumentEngine}, persists the decisions in one write, and answers once they are durable. Its
 * persistence id is the entity's ({@link InstrumentEntity#persistenceId}).
 */
final class InstrumentJournal extends EventSourcedBehavior<Command, Event, State> {
  private final String symbol;
  private final InstrumentSpec spec;
  private final int snapshotEvery;
  private final int retainedCompletedOrders;
  // Only a rehearsal has it: it answers its sequence number with its snapshot.
  private final ActorContext<Command> rehearsal;
  // Null in a rehearsal: a read-only incarnation holds no orders of this node's.
  private final Gauge openOrders;

  InstrumentJournal(
      String symbol, InstrumentSpec spec, int snapshotEvery, int retainedCompletedOrders) {
    this(symbol, spec, snapshotEvery, retainedCompletedOrders, null);
  }

  InstrumentJournal(
      String symbol,
      InstrumentSpec spec,
      int snapshotEvery,
      int retainedCompletedOrders,
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
            (s, c) -> reply(c.replyTo(), new PositionReply(symbol, s.engine.position(c.account()))))
        .onCommand(
            TakeRehearsalSnapshot.class,
            (st, c) -> {
              if (rehearsal == null) return Effect().unhandled();
              return reply(
                  c.replyTo(),
                  new RehearsalSnapshot(
                      symbol,
                      lastSequenceNumber(rehearsal),
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
        if (result.status() == CancelResult.Status.CANCELLED)
          events.add(new OrderCancelled(c.account(), c.orderId(), now));
        replies.add(() -> c.replyTo().tell(new CancelReply(result, null)));
      }
    }
    state.decidedLive(events.size());
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
            symbol
                + ": unknown snapshot type "
                + (from == null ? "null" : from.getClass().getName()));
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
              log.info(
                  "Instrument {} recovered: {} accepted, {} rejected",
                  symbol,
                  s.engine.accepted(),
                  s.engine.rejected());
              if (log.isDebugEnabled())
                log.debug("Instrument {} state digest {}", symbol, s.engine.stateDigest());
            })
        .onSignal(
            akka.actor.typed.PostStop.instance(),
            s -> {
              // Zero, not removed: Kamon's Prometheus reporter would keep a removed series' last
              // value.
              if (openOrders != null) openOrders.update(0);
            })
        .build();
  }
}
