package com.shrivenquant.engine.instrument;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import com.shrivenquant.engine.EngineSettings;
import com.shrivenquant.engine.EngineSettings.InstrumentSpec;
import com.shrivenquant.engine.instrument.InstrumentEntity.Command;
import com.shrivenquant.engine.instrument.InstrumentEntity.RehearsalSnapshot;
import com.shrivenquant.engine.instrument.InstrumentEntity.TakeRehearsalSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/**
 * A throw-away, read-only incarnation of an instrument's journal, outside sharding: see {@link
 * InstrumentEntity#rehearseRecovery}.
 */
final class RecoveryRehearsal {
  private RecoveryRehearsal() {}

  static CompletionStage<RehearsalSnapshot> run(
      ActorSystem<?> system, EngineSettings settings, String symbol, Duration timeout) {
    InstrumentSpec spec =
        settings
            .instrument(symbol)
            .orElseThrow(() -> new IllegalArgumentException("unknown instrument " + symbol));
    Behavior<Rehearsal> rehearsal =
        Behaviors.setup(
            ctx -> {
              ActorRef<Command> journal =
                  ctx.spawn(
                      Behaviors.<Command>setup(
                          own ->
                              new InstrumentJournal(
                                  symbol,
                                  spec,
                                  settings.snapshotEvery(),
                                  settings.retainedCompletedOrders(),
                                  own)),
                      "journal");
              ActorRef<RehearsalSnapshot> recovered =
                  ctx.messageAdapter(RehearsalSnapshot.class, Rehearsed::new);
              List<ActorRef<RehearsalSnapshot>> askers = new ArrayList<>();
              return Behaviors.receive(Rehearsal.class)
                  .onMessage(
                      Rehearse.class,
                      ask -> {
                        askers.add(ask.replyTo());
                        journal.tell(new TakeRehearsalSnapshot(recovered));
                        return Behaviors.same();
                      })
                  .onMessage(
                      Rehearsed.class,
                      done -> {
                        askers.forEach(a -> a.tell(done.snapshot()));
                        return Behaviors.stopped(); // stops the read-only incarnation with it
                      })
                  .build();
            });
    ActorRef<Rehearsal> ref =
        system.systemActorOf(
            rehearsal, "recovery-rehearsal-" + symbol + "-" + UUID.randomUUID(), Props.empty());
    return AskPattern.ask(ref, Rehearse::new, timeout, system.scheduler());
  }

  private interface Rehearsal {}

  private record Rehearse(ActorRef<RehearsalSnapshot> replyTo) implements Rehearsal {}

  private record Rehearsed(RehearsalSnapshot snapshot) implements Rehearsal {}
}
