package com.shrivenquant.cluster.ops;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.shrivenquant.failover.Failover;
import com.shrivenquant.failover.region.RegionCoordinatorActor;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * An operator's planned moves and their records: {@code POST /failover/switchover} and {@code POST
 * /ops/drills} (operator); {@code GET /ops/drills}, {@code /ops/drills/{id}}, {@code
 * /ops/drills/{id}/report} (viewer).
 */
final class OperatorActionRoutes extends OperatorRouteSupport {
  private final SwitchoverDrillRunner drills;

  OperatorActionRoutes(
      ActorSystem<?> system,
      BearerTokenGuard guard,
      Duration actionTimeout,
      Executor blocking,
      SwitchoverDrillRunner drills) {
    super(system, guard, actionTimeout, blocking);
    this.drills = drills;
  }

  Route routes() {
    return concat(
        pathPrefix("failover", () -> path("switchover", this::switchover)),
        pathPrefix("ops", () -> pathPrefix("drills", this::drillRoutes)));
  }

  private Route switchover() {
    return post(
        () ->
            guard.protect(
                OperatorRole.OPERATOR,
                c ->
                    withReason(
                        reason ->
                            command(
                                "switchover",
                                to ->
                                    new RegionCoordinatorActor.Switchover(
                                        requestedBy(c, reason), to),
                                (w, done) ->
                                    Map.of(
                                        "handedOverInEpoch",
                                        done.epoch(),
                                        "to",
                                        w.settings().peerRegion())))));
  }

  private Route drillRoutes() {
    return concat(
        pathEnd(
            () ->
                concat(
                    post(
                        () ->
                            guard.protect(
                                OperatorRole.OPERATOR,
                                c -> withReason(reason -> startDrill(requestedBy(c, reason))))),
                    get(
                        () ->
                            guard.protect(
                                OperatorRole.VIEWER, c -> read(() -> drills.store().recent(20)))))),
        path(
            PathMatchers.segment(),
            id -> get(() -> guard.protect(OperatorRole.VIEWER, c -> drill(id, false)))),
        path(
            PathMatchers.segment().slash("report"),
            id -> get(() -> guard.protect(OperatorRole.VIEWER, c -> drill(id, true)))));
  }

  private Route startDrill(String requestedBy) {
    Optional<Failover> w = failover();
    if (w.isEmpty()) return failoverDisabled();
    return answer(
        () -> {
          try {
            long id = drills.start(w.get(), requestedBy);
            return OperatorJson.json(
                StatusCodes.ACCEPTED,
                Map.of(
                    "id",
                    id,
                    "status",
                    "RUNNING",
                    "statusUrl",
                    "/ops/drills/" + id,
                    "reportUrl",
                    "/ops/drills/" + id + "/report"));
          } catch (SwitchoverDrillRunner.Refused e) {
            return OperatorJson.error(StatusCodes.CONFLICT, "conflict", e.getMessage());
          }
        });
  }

  /** A drill's row, or with {@code report} its finished report (409 while it runs). */
  private Route drill(String idText, boolean report) {
    long id;
    try {
      id = Long.parseLong(idText);
    } catch (NumberFormatException e) {
      return badRequest("drill id must be a number");
    }
    return answer(
        () -> {
          Optional<ObjectNode> drill = drills.store().get(id);
          if (drill.isEmpty()) {
            return OperatorJson.error(
                StatusCodes.NOT_FOUND,
                "not_found",
                "no drill " + id + " in this region's database");
          }
          if (!report) return OperatorJson.json(StatusCodes.OK, drill.get());
          Optional<String> document = drills.store().report(id);
          return document.isEmpty()
              ? OperatorJson.error(
                  StatusCodes.CONFLICT, "running", "drill " + id + " is still running")
              : OperatorJson.raw(StatusCodes.OK, document.get());
        });
  }
}
