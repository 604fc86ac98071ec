package com.shrivenquant.cluster.region;

import akka.actor.typed.ActorSystem;
import com.shrivenquant.engine.instrument.InstrumentEntity;
import com.shrivenquant.engine.instrument.IntakeGate;
import com.shrivenquant.engine.instrument.OrderEntry;
import com.shrivenquant.failover.Failover;
import com.shrivenquant.failover.FailoverContext;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.durability.SyncAckWaiter;
import com.shrivenquant.failover.region.PrimacyAgent;
import com.shrivenquant.failover.region.RegionRole;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failover on a node, the engine's side: builds the failover context from the node's config and
 * starts {@link Failover} (the failover module's one entry point), turns the node's primacy into
 * the engine's intake gate, and gives promotion the engine's entity recovery. With failover
 * disabled (single-region dev mode) the gate is always open and there is no coordinator.
 */
public final class RegionWiring {
  private static final Logger log = LoggerFactory.getLogger(RegionWiring.class);

  private final Failover failover;

  private RegionWiring(Failover failover) {
    this.failover = failover;
  }

  /** Before the engine starts: the gate the engine checks before each journal write. */
  public static RegionWiring start(
      ActorSystem<?> system,
      FailoverSettings settings,
      String jdbcUrl,
      String jdbcUser,
      String jdbcPassword) {
    Failover failover = Failover.get(system);
    if (settings.enabled()) {
      failover.start(
          FailoverContext.open(
              system, settings, new FailoverSettings.Jdbc(jdbcUrl, jdbcUser, jdbcPassword)));
    } else {
      failover.startDisabled(settings);
    }
    return new RegionWiring(failover);
  }

  /** Present in {@code sync} durability: acks wait until durable in the standby's Kafka. */
  public Optional<SyncAckWaiter> syncAcks() {
    return failover.syncAcks();
  }

  public Optional<PrimacyAgent> agent() {
    return failover.agent();
  }

  /**
   * Once the engine runs: the region's coordinator singleton (which recovers every instrument from
   * the drained journal before a promotion lets orders in), and entities whose journal may change
   * under them (fenced, standby) are stopped.
   */
  public void startWithEngine(ActorSystem<?> system, OrderEntry entry) {
    if (failover.agent().isEmpty()) return;
    failover.startCoordinator(persistenceIds -> recover(entry, persistenceIds));
    stopEntitiesWhenNotActive(system, entry);
    new StandbyRehearsal(system, entry, failover.regionDb().orElseThrow(), failover.agent().get())
        .schedule(java.time.Duration.ofSeconds(5));
  }

  private static java.util.concurrent.CompletionStage<Integer> recover(
      OrderEntry entry, java.util.Set<String> persistenceIds) {
    java.util.List<java.util.concurrent.CompletableFuture<?>> all =
        persistenceIds.stream()
            .filter(id -> id.startsWith(InstrumentEntity.TYPE_KEY.name() + "|"))
            .map(id -> id.substring(id.indexOf('|') + 1))
            .filter(entry::knows)
            .map(symbol -> entry.digest(symbol).toCompletableFuture())
            .collect(java.util.stream.Collectors.toList());
    return java.util.concurrent.CompletableFuture.allOf(
            all.toArray(java.util.concurrent.CompletableFuture[]::new))
        .thenApply(done -> all.size());
  }

  private void stopEntitiesWhenNotActive(ActorSystem<?> system, OrderEntry entry) {
    failover
        .agent()
        .ifPresent(
            a ->
                a.onChange(
                    status -> {
                      if (status.role() != RegionRole.ACTIVE) {
                        entry
                            .stopLocalEntities(system)
                            .thenAccept(
                                n -> {
                                  if (n > 0)
                                    log.info(
                                        "Stopped {} instrument entities: region is {}",
                                        n,
                                        status.role());
                                });
                      }
                    }));
  }

  public IntakeGate gate() {
    if (failover.agent().isEmpty()) return IntakeGate.OPEN;
    PrimacyAgent a = failover.agent().get();
    return () -> {
      PrimacyAgent.Status s = a.status();
      return s.accepting() ? null : refusal(s);
    };
  }

  public static String refusal(PrimacyAgent.Status s) {
    String active =
        s.activeRegion()
            .filter(r -> !r.equals(s.region()))
            .map(r -> "; active region: " + r)
            .orElse("");
    return "region " + s.region() + " is not accepting orders (" + s.reason() + ")" + active;
  }
}
