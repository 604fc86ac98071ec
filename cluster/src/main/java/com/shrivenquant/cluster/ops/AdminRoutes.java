package com.shrivenquant.cluster.ops;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.shrivenquant.failover.region.RegionCoordinatorActor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The admin's overrides and the API's own upkeep: {@code POST /ops/promote}, {@code POST
 * /ops/fence}, {@code POST /ops/tokens/reload}, {@code GET /ops/audit}; all admin.
 */
final class AdminRoutes extends OperatorRouteSupport {
  private final TokenStore tokens;
  private final AuditStore audit;

  AdminRoutes(
      ActorSystem<?> system,
      BearerTokenGuard guard,
      Duration actionTimeout,
      Executor blocking,
      TokenStore tokens,
      AuditStore audit) {
    super(system, guard, actionTimeout, blocking);
    this.tokens = tokens;
    this.audit = audit;
  }

  Route routes() {
    return pathPrefix(
        "ops",
        () ->
            concat(
                path("promote", () -> post(() -> admin(this::promote))),
                path("fence", () -> post(() -> admin(this::fence))),
                path(
                    PathMatchers.segment("tokens").slash("reload"),
                    () -> post(() -> admin(c -> reloadTokens()))),
                path("audit", () -> get(() -> admin(c -> auditLog())))));
  }

  private Route admin(Function<BearerTokenGuard.Caller, Route> inner) {
    return guard.protect(OperatorRole.ADMIN, inner);
  }

  private Route promote(BearerTokenGuard.Caller c) {
    return withReason(
        reason ->
            command(
                "forced promotion",
                to -> new RegionCoordinatorActor.ForcePromote(requestedBy(c, reason), to),
                (w, done) ->
                    Map.of(
                        "region", w.settings().region(), "role", "ACTIVE", "epoch", done.epoch())));
  }

  private Route fence(BearerTokenGuard.Caller c) {
    return withReason(
        reason ->
            command(
                "fence",
                to -> new RegionCoordinatorActor.Fence(requestedBy(c, reason), to),
                (w, done) ->
                    Map.of(
                        "region",
                        w.settings().region(),
                        "role",
                        "FENCED",
                        "fencedInEpoch",
                        done.epoch())));
  }

  /** Reads the tokens again now; an invalid set leaves the previous one in force (409). */
  private Route reloadTokens() {
    return answer(
        () -> {
          try {
            List<TokenStore.Principal> loaded = tokens.reload();
            return OperatorJson.json(
                StatusCodes.OK,
                Map.of(
                    "tokens",
                    loaded.size(),
                    "ids",
                    loaded.stream()
                        .map(p -> Map.of("id", p.tokenId(), "role", p.role().label()))
                        .toList()));
          } catch (TokenStore.InvalidTokens e) {
            return OperatorJson.error(
                StatusCodes.CONFLICT,
                "tokens_invalid",
                e.getMessage() + "; the previous " + tokens.principals().size() + " tokens stay");
          }
        });
  }

  /** The audit trail, newest first, paged by {@code limit} (1-1000) and {@code beforeId}. */
  private Route auditLog() {
    return parameterOptional(
        "limit",
        limitText ->
            parameterOptional(
                "beforeId",
                beforeText -> {
                  long limit;
                  long before;
                  try {
                    limit = limitText.map(Long::parseLong).orElse(100L);
                    before = beforeText.map(Long::parseLong).orElse(Long.MAX_VALUE);
                  } catch (NumberFormatException e) {
                    return badRequest("limit and beforeId must be numbers");
                  }
                  if (limit < 1 || limit > 1000 || before < 1) {
                    return badRequest("limit must be 1-1000 and beforeId positive");
                  }
                  return read(() -> audit.latest((int) limit, before));
                }));
  }
}
