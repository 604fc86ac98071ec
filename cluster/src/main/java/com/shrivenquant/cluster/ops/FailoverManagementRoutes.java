package com.shrivenquant.cluster.ops;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.management.javadsl.ManagementRouteProvider;
import akka.management.javadsl.ManagementRouteProviderSettings;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.shrivenquant.cluster.region.RegionWiring;
import com.shrivenquant.failover.promote.ConsistencyStore;
import com.shrivenquant.failover.region.PrimacyAgent;
import com.shrivenquant.failover.region.RegionCoordinatorActor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Failover operations on the Akka Management port, beside its cluster routes:
 * {@code GET /failover/status}, {@code POST /failover/switchover}, {@code GET /failover/replication},
 * {@code GET /failover/incidents},
 * {@code GET /failover/consistency}. (Bearer-token roles and auditing of these calls are the
 * operator-API issue's.)
 */
public final class FailoverManagementRoutes extends AllDirectives implements ManagementRouteProvider {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ActorSystem<?> system;

  public FailoverManagementRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return pathPrefix("failover", () -> concat(
        path("status", () -> get(() -> extractRequest(r -> status()))),
        path("switchover", () -> post(() -> extractClientIP(ip -> switchover(ip.toString())))),
        path("replication", () -> get(() -> extractRequest(r -> replication()))),
        path("incidents", () -> get(() -> extractRequest(r -> documents("failover_incident")))),
        path("consistency", () -> get(() -> extractRequest(r -> documents("consistency_report"))))));
  }

  private Optional<RegionWiring> wiring() {
    return RegionWiring.of(system).filter(w -> w.agent().isPresent());
  }

  private Route status() {
    Optional<RegionWiring> w = wiring();
    if (w.isEmpty()) return complete(error(StatusCodes.NOT_FOUND, "failover is disabled on this node"));
    PrimacyAgent.Status s = w.get().agent().get().status();
    ObjectNode body = JSON.createObjectNode();
    body.put("region", s.region());
    body.put("role", s.role().name());
    body.put("epoch", s.epoch());
    body.put("accepting", s.accepting());
    body.put("reason", s.reason());
    body.put("activeRegion", s.activeRegion().orElse(null));
    s.lastLeaseRead().ifPresent(l -> {
      ObjectNode lease = body.putObject("lease");
      lease.put("holder", l.holder().orElse(null));
      lease.put("epoch", l.epoch());
      lease.put("ageMillis", l.ageMillis());
      lease.put("ttlMillis", l.ttlMillis());
    });
    return complete(json(StatusCodes.OK, body));
  }

  private Route switchover(String source) {
    Optional<RegionWiring> w = wiring();
    if (w.isEmpty()) return complete(error(StatusCodes.NOT_FOUND, "failover is disabled on this node"));
    CompletableFuture<HttpResponse> answer = AskPattern.<RegionCoordinatorActor.Message, RegionCoordinatorActor.SwitchoverDone>ask(
            w.get().coordinator().get(),
            replyTo -> new RegionCoordinatorActor.Switchover("operator@" + source, replyTo),
            Duration.ofSeconds(30), system.scheduler())
        .thenApply(done -> done.error().isEmpty()
            ? json(StatusCodes.OK, Map.of("handedOverInEpoch", done.epoch(),
                "to", w.get().settings().peerRegion()))
            : error(StatusCodes.CONFLICT, "switchover refused: " + done.error()))
        .toCompletableFuture();
    return onSuccess(answer, this::complete);
  }

  private Route replication() {
    Optional<RegionWiring> w = wiring();
    if (w.isEmpty()) return complete(error(StatusCodes.NOT_FOUND, "failover is disabled on this node"));
    CompletableFuture<HttpResponse> answer = AskPattern.<RegionCoordinatorActor.Message, com.shrivenquant.failover.region.ReplicationStatus>ask(
            w.get().coordinator().get(), RegionCoordinatorActor.GetReplicationStatus::new,
            Duration.ofSeconds(5), system.scheduler())
        .thenApply(s -> json(StatusCodes.OK, s))
        .exceptionally(e -> error(StatusCodes.SERVICE_UNAVAILABLE, "region coordinator did not answer: " + e.getMessage()))
        .toCompletableFuture();
    return onSuccess(answer, this::complete);
  }

  private Route documents(String table) {
    Optional<RegionWiring> w = wiring();
    if (w.isEmpty()) return complete(error(StatusCodes.NOT_FOUND, "failover is disabled on this node"));
    try {
      List<String> docs = ConsistencyStore.latest(w.get().regionDb().get(), table, 20);
      return complete(HttpResponse.create().withStatus(StatusCodes.OK).withEntity(
          HttpEntities.create(ContentTypes.APPLICATION_JSON, "[" + String.join(",", docs) + "]")));
    } catch (Exception e) {
      return complete(error(StatusCodes.SERVICE_UNAVAILABLE, "region database unreadable: " + e.getMessage()));
    }
  }

  private static HttpResponse json(StatusCode status, Object body) {
    try {
      return HttpResponse.create().withStatus(status)
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static HttpResponse error(StatusCode status, String message) {
    return json(status, Map.of("error", status.reason(), "message", message));
  }
}
