package com.shrivenquant.engine.instrument;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import com.shrivenquant.engine.instrument.InstrumentEntity.BatchWritten;
import com.shrivenquant.engine.instrument.InstrumentEntity.Cancel;
import com.shrivenquant.engine.instrument.InstrumentEntity.CancelReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.Command;
import com.shrivenquant.engine.instrument.InstrumentEntity.JournalStopped;
import com.shrivenquant.engine.instrument.InstrumentEntity.Mutation;
import com.shrivenquant.engine.instrument.InstrumentEntity.NotPlaced;
import com.shrivenquant.engine.instrument.InstrumentEntity.Passivate;
import com.shrivenquant.engine.instrument.InstrumentEntity.Place;
import com.shrivenquant.engine.instrument.InstrumentEntity.WriteBatch;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import kamon.Kamon;
import kamon.trace.Span;

/**
 * The sharded entity's front actor: queues mutations while a journal write is in flight and hands
 * them to {@link InstrumentJournal} as one batch, so a hot instrument is not capped at one journal
 * commit per order. Reads pass straight through, behind the write in flight.
 */
final class GroupCommitter {
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
      ActorContext<Command> ctx,
      ActorRef<Command> journal,
      int maxBatch,
      int maxQueue,
      IntakeGate gate) {
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
      Span span =
          OrderTraces.start("instrument.place", p.traceParent(), ctx.getSelf().path().name());
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
    ctx.getLog()
        .warn(
            "Journal of {} stopped; refusing {} orders",
            ctx.getSelf().path().name(),
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
    var builder =
        Kamon.internalSpanBuilder("instrument.journal-write", OrderTraces.COMPONENT)
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
