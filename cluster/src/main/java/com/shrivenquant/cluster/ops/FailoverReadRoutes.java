package com.shrivenquant.cluster.ops;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.shrivenquant.failover.Failover;
import com.shrivenquant.failover.promote.ConsistencyStore;
import com.shrivenquant.failover.region.PrimacyAgent;
import com.shrivenquant.failover.region.RegionCoordinatorActor;
import com.shrivenquant.failover.region.ReplicationStatus;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Viewer reads of the region's failover state: {@code GET /failover/status}, {@code
 * /failover/replication}, {@code /failover/incidents}, {@code /failover/consistency}; 404 when
 * failover is off.
 */
final class FailoverReadRoutes extends OperatorRouteSupport {

  FailoverReadRoutes(
      ActorSystem<?> system, BearerTokenGuard guard, Duration actionTimeout, Executor blocking) {
    super(system, guard, actionTimeout, blocking);
  }

  Route routes() {
    return pathPrefix(
        "failover",
        () ->
            concat(
                path("status", () -> viewer(this::status)),
                path("replication", () -> viewer(this::replication)),
                path("incidents", () -> viewer(() -> documents("failover_incident"))),
                path("consistency", () -> viewer(() -> documents("consistency_report")))));
  }

  private Route viewer(Supplier<Route> read) {
    return get(() -> guard.protect(OperatorRole.VIEWER, c -> read.get()));
  }

  private Route status() {
    Optional<Failover> w = failover();
    if (w.isEmpty()) return failoverDisabled();
    PrimacyAgent.Status s = w.get().agent().get().status();
    ObjectNode body = OperatorJson.JSON.createObjectNode();
    body.put("region", s.region());
    body.put("role", s.role().name());
    body.put("epoch", s.epoch());
    body.put("accepting", s.accepting());
    body.put("reason", s.reason());
    body.put("activeRegion", s.activeRegion().orElse(null));
    s.lastLeaseRead()
        .ifPresent(
            l -> {
              ObjectNode lease = body.putObject("lease");
              lease.put("holder", l.holder().orElse(null));
              lease.put("epoch", l.epoch());
              lease.put("ageMillis", l.ageMillis());
              lease.put("ttlMillis", l.ttlMillis());
            });
    return complete(OperatorJson.json(StatusCodes.OK, body));
  }

  private Route replication() {
    Optional<Failover> w = failover();
    if (w.isEmpty()) return failoverDisabled();
    if (w.get().coordinator().isEmpty())
      return unavailable("no region coordinator on this node yet");
    CompletionStage<HttpResponse> answer =
        AskPattern.<RegionCoordinatorActor.Message, ReplicationStatus>ask(
                w.get().coordinator().get(),
                RegionCoordinatorActor.GetReplicationStatus::new,
                Duration.ofSeconds(5),
                system.scheduler())
            .thenApply(s -> OperatorJson.json(StatusCodes.OK, s))
            .exceptionally(
                e ->
                    OperatorJson.error(
                        StatusCodes.SERVICE_UNAVAILABLE,
                        "unavailable",
                        "region coordinator did not answer: " + e.getMessage()));
    return onSuccess(answer, this::complete);
  }

  /** The latest 20 JSON documents of a failover table, newest first. */
  private Route documents(String table) {
    Optional<Failover> w = failover();
    if (w.isEmpty()) return failoverDisabled();
    return read(
        () ->
            "["
                + String.join(",", ConsistencyStore.latest(w.get().regionDb().get(), table, 20))
                + "]");
  }
}
