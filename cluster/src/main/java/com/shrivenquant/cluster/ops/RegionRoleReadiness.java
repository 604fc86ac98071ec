package com.shrivenquant.cluster.ops;

import akka.actor.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import com.shrivenquant.failover.Failover;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** {@code /health/ready} is ready only once the node knows its region's role. */
public final class RegionRoleReadiness implements Supplier<CompletionStage<Boolean>> {
  private final akka.actor.typed.ActorSystem<?> system;

  public RegionRoleReadiness(ActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public CompletionStage<Boolean> get() {
    Failover failover = Failover.get(system);
    boolean ready =
        failover.started()
            && failover.agent().map(a -> a.status().state().isPresent()).orElse(true);
    return CompletableFuture.completedFuture(ready);
  }
}
