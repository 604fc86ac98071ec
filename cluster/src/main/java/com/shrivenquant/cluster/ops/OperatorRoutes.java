package com.shrivenquant.cluster.ops;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.Cluster;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.Query;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.management.cluster.javadsl.ClusterHttpManagementRoutes;
import akka.management.javadsl.ManagementRouteProvider;
import akka.management.javadsl.ManagementRouteProviderSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.shrivenquant.cluster.NodeSettings;
import com.shrivenquant.failover.Failover;
import com.shrivenquant.failover.promote.ConsistencyStore;
import com.shrivenquant.failover.region.PrimacyAgent;
import com.shrivenquant.failover.region.RegionCoordinatorActor;
import com.shrivenquant.failover.region.RegionStateStore;
import com.shrivenquant.failover.region.ReplicationStatus;
import com.shrivenquant.replication.ReplicationDataSource;
import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import scala.jdk.javaapi.DurationConverters;

/**
 * The operator API on the Akka Management port, beside its health and bootstrap routes (which stay
 * open), every route behind a bearer token with a role ({@link BearerTokenGuard}) and audited:
 *
 * <ul>
 *   <li>viewer: {@code GET /failover/status}, {@code /failover/replication}, {@code
 *       /failover/incidents}, {@code /failover/consistency}, {@code /ops/drills}, {@code
 *       /ops/drills/{id}}, {@code /ops/drills/{id}/report}, Akka Management's {@code GET
 *       /cluster/...};
 *   <li>operator: {@code POST /failover/switchover}, {@code POST /ops/drills}, a member's leave
 *       ({@code DELETE /cluster/members/{m}}, {@code PUT} with {@code operation=leave});
 *   <li>admin: {@code POST /ops/promote}, {@code POST /ops/fence}, {@code POST /ops/tokens/reload},
 *       {@code GET /ops/audit}, downing a member and Akka Management's other mutating routes.
 * </ul>
 *
 * Akka Management's own cluster route provider is switched off in application.conf; its routes
 * (read-write) are served here behind the guard instead.
 */
public final class OperatorRoutes extends AllDirectives implements ManagementRouteProvider {
  private static final int MAX_REASON_CHARS = 500;

  private final ActorSystem<?> system;
  private final OperatorApiSettings settings;
  private final TokenStore tokens;
  private final AuditStore audit;
  private final BearerTokenGuard guard;
  private final SwitchoverDrillRunner drills;
  private final Route clusterRoutes;
  private final Executor blocking;

  public OperatorRoutes(ExtendedActorSystem classic) throws TokenStore.InvalidTokens {
    this.system = Adapter.toTyped(classic);
    this.settings = OperatorApiSettings.fromConfig(classic.settings().config());
    NodeSettings node = NodeSettings.fromConfig(classic.settings().config());
    // The node's own database (the region database when failover is on): audit rows and drills
    // go there in every mode, so dev mode audits too.
    HikariDataSource db =
        ReplicationDataSource.pooled(
            node.jdbcUrl(), node.jdbcUser(), node.jdbcPassword(), "operator-api");
    RegionStateStore.migrate(db);
    this.tokens = TokenStore.start(settings);
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.audit = new AuditStore(db, blocking);
    this.guard = new BearerTokenGuard(tokens, new FailureThrottle(settings.throttle()), audit);
    this.drills =
        new SwitchoverDrillRunner(system, new SwitchoverDrillStore(db), settings.actionTimeout());
    this.clusterRoutes = ClusterHttpManagementRoutes.all(Cluster.get(classic));
    system
        .getWhenTerminated()
        .thenRun(
            () -> {
              tokens.close();
              drills.close();
              db.close();
            });
  }

  @Override
  public Route routes(ManagementRouteProviderSettings ignored) {
    return concat(
        pathPrefix(
            "failover",
            () ->
                concat(
                    path(
                        "status",
                        () -> get(() -> guard.protect(OperatorRole.VIEWER, c -> status()))),
                    path(
                        "replication",
                        () -> get(() -> guard.protect(OperatorRole.VIEWER, c -> replication()))),
                    path(
                        "incidents",
                        () ->
                            get(
                                () ->
                                    guard.protect(
                                        OperatorRole.VIEWER, c -> documents("failover_incident")))),
                    path(
                        "consistency",
                        () ->
                            get(
                                () ->
                                    guard.protect(
                                        OperatorRole.VIEWER,
                                        c -> documents("consistency_report")))),
                    path(
                        "switchover",
                        () ->
                            post(
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
                                                                w.settings().peerRegion())))))))),
        pathPrefix(
            "ops",
            () ->
                concat(
                    path(
                        "promote",
                        () ->
                            post(
                                () ->
                                    guard.protect(
                                        OperatorRole.ADMIN,
                                        c ->
                                            withReason(
                                                reason ->
                                                    command(
                                                        "forced promotion",
                                                        to ->
                                                            new RegionCoordinatorActor.ForcePromote(
                                                                requestedBy(c, reason), to),
                                                        (w, done) ->
                                                            Map.of(
                                                                "region",
                                                                w.settings().region(),
                                                                "role",
                                                                "ACTIVE",
                                                                "epoch",
                                                                done.epoch())))))),
                    path(
                        "fence",
                        () ->
                            post(
                                () ->
                                    guard.protect(
                                        OperatorRole.ADMIN,
                                        c ->
                                            withReason(
                                                reason ->
                                                    command(
                                                        "fence",
                                                        to ->
                                                            new RegionCoordinatorActor.Fence(
                                                                requestedBy(c, reason), to),
                                                        (w, done) ->
                                                            Map.of(
                                                                "region",
                                                                w.settings().region(),
                                                                "role",
                                                                "FENCED",
                                                                "fencedInEpoch",
                                                                done.epoch())))))),
                    pathPrefix(
                        "drills",
                        () ->
                            concat(
                                pathEnd(
                                    () ->
                                        concat(
                                            post(
                                                () ->
                                                    guard.protect(
                                                        OperatorRole.OPERATOR,
                                                        c ->
                                                            withReason(
                                                                reason ->
                                                                    startDrill(
                                                                        requestedBy(c, reason))))),
                                            get(
                                                () ->
                                                    guard.protect(
                                                        OperatorRole.VIEWER,
                                                        c ->
                                                            read(
                                                                () ->
                                                                    drills.store().recent(20)))))),
                                path(
                                    PathMatchers.segment(),
                                    id ->
                                        get(
                                            () ->
                                                guard.protect(
                                                    OperatorRole.VIEWER, c -> drill(id, false)))),
                                path(
                                    PathMatchers.segment().slash("report"),
                                    id ->
                                        get(
                                            () ->
                                                guard.protect(
                                                    OperatorRole.VIEWER, c -> drill(id, true)))))),
                    path(
                        PathMatchers.segment("tokens").slash("reload"),
                        () -> post(() -> guard.protect(OperatorRole.ADMIN, c -> reloadTokens()))),
                    path(
                        "audit",
                        () -> get(() -> guard.protect(OperatorRole.ADMIN, c -> auditLog()))))),
        // Not consumed: Akka Management's cluster routes match "cluster" themselves. The form is
        // read (strict) before the guard, which decides a member PUT's role by its operation.
        pathPrefixTest(
            "cluster",
            () ->
                toStrictEntity(
                    DurationConverters.toScala(Duration.ofSeconds(5)),
                    () -> guard.protect(OperatorRoutes::clusterRole, c -> clusterRoutes))));
  }

  /**
   * GET: viewer. A member's leave: operator. Down, join, prepare-for-full-shutdown, anything else:
   * admin.
   */
  static OperatorRole clusterRole(HttpRequest request) {
    if (request.method().equals(HttpMethods.GET) || request.method().equals(HttpMethods.HEAD))
      return OperatorRole.VIEWER;
    boolean member = request.getUri().path().matches("/cluster/members/.+");
    if (member && request.method().equals(HttpMethods.DELETE)) return OperatorRole.OPERATOR;
    if (member
        && request.method().equals(HttpMethods.PUT)
        && request.entity() instanceof HttpEntity.Strict strict
        && strict
            .getContentType()
            .mediaType()
            .equals(MediaTypes.APPLICATION_X_WWW_FORM_URLENCODED)) {
      Optional<String> operation = Query.create(strict.getData().utf8String()).get("operation");
      if (operation.isPresent() && operation.get().equalsIgnoreCase("leave"))
        return OperatorRole.OPERATOR;
    }
    return OperatorRole.ADMIN;
  }

  private static String requestedBy(BearerTokenGuard.Caller caller, Optional<String> reason) {
    return "operator " + caller.describe() + reason.map(r -> " (" + r + ")").orElse("");
  }

  // ------------------------------------------------------------------ reads

  private Optional<Failover> failover() {
    return Optional.of(Failover.get(system)).filter(Failover::enabled);
  }

  private Route failoverDisabled() {
    return complete(
        OperatorJson.error(
            StatusCodes.NOT_FOUND, "failover_disabled", "failover is disabled on this node"));
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

  private Route documents(String table) {
    Optional<Failover> w = failover();
    if (w.isEmpty()) return failoverDisabled();
    return read(
        () ->
            "["
                + String.join(",", ConsistencyStore.latest(w.get().regionDb().get(), table, 20))
                + "]");
  }

  private interface Read {
    Object get() throws Exception;
  }

  /** A database read: its JSON (a String is JSON already), or 503. */
  private Route read(Read read) {
    return answer(
        () -> {
          Object body = read.get();
          return body instanceof String s
              ? OperatorJson.raw(StatusCodes.OK, s)
              : OperatorJson.json(StatusCodes.OK, body);
        });
  }

  private interface Answering {
    HttpResponse get() throws Exception;
  }

  /**
   * An answer that reads PostgreSQL or a file: computed on the blocking dispatcher; 503 if it
   * throws.
   */
  private Route answer(Answering answering) {
    CompletionStage<HttpResponse> answer =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return answering.get();
              } catch (Exception e) {
                return OperatorJson.error(
                    StatusCodes.SERVICE_UNAVAILABLE,
                    "unavailable",
                    "database unreadable: " + e.getMessage());
              }
            },
            blocking);
    return onSuccess(answer, this::complete);
  }

  private Route unavailable(String message) {
    return complete(OperatorJson.error(StatusCodes.SERVICE_UNAVAILABLE, "unavailable", message));
  }

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
                    return complete(
                        OperatorJson.error(
                            StatusCodes.BAD_REQUEST,
                            "bad_request",
                            "limit and beforeId must be numbers"));
                  }
                  if (limit < 1 || limit > 1000 || before < 1) {
                    return complete(
                        OperatorJson.error(
                            StatusCodes.BAD_REQUEST,
                            "bad_request",
                            "limit must be 1-1000 and beforeId positive"));
                  }
                  return read(() -> audit.latest((int) limit, before));
                }));
  }

  // ------------------------------------------------------------------ actions

  /**
   * An optional JSON body {@code {"reason": "..."}}, recorded with the action. Anything else is
   * refused with 400 before the action runs.
   */
  private Route withReason(Function<Optional<String>, Route> inner) {
    return entity(
        Unmarshaller.entityToString(),
        body -> {
          if (body.isBlank()) return inner.apply(Optional.empty());
          JsonNode json;
          try {
            json = OperatorJson.JSON.readTree(body);
          } catch (Exception e) {
            return badRequest("malformed JSON body");
          }
          if (json == null || !json.isObject())
            return badRequest("the body must be a JSON object like {\"reason\": \"...\"}");
          for (Iterator<String> names = json.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("reason"))
              return badRequest("unknown field '" + name + "' (only 'reason' is accepted)");
          }
          JsonNode reason = json.get("reason");
          if (reason == null) return inner.apply(Optional.empty());
          if (!reason.isTextual()
              || reason.asText().isBlank()
              || reason.asText().length() > MAX_REASON_CHARS) {
            return badRequest(
                "'reason' must be a non-blank string of at most "
                    + MAX_REASON_CHARS
                    + " characters");
          }
          return inner.apply(Optional.of(reason.asText().strip()));
        });
  }

  private Route badRequest(String message) {
    return complete(OperatorJson.error(StatusCodes.BAD_REQUEST, "bad_request", message));
  }

  private interface Answer {
    Object body(Failover failover, RegionCoordinatorActor.Done done);
  }

  /**
   * A command to the region's coordinator: 200 with {@code ok}'s body, 409 if it refused, 503 if it
   * did not answer.
   */
  private Route command(
      String what,
      akka.japi.function.Function<
              ActorRef<RegionCoordinatorActor.Done>, RegionCoordinatorActor.Message>
          message,
      Answer ok) {
    Optional<Failover> w = failover();
    if (w.isEmpty()) return failoverDisabled();
    CompletionStage<HttpResponse> answer =
        w.get()
            .command(message, settings.actionTimeout())
            .thenApply(
                done ->
                    done.error().isEmpty()
                        ? OperatorJson.json(StatusCodes.OK, ok.body(w.get(), done))
                        : OperatorJson.error(
                            StatusCodes.CONFLICT, "conflict", what + " refused: " + done.error()))
            .exceptionally(
                e ->
                    OperatorJson.error(
                        StatusCodes.SERVICE_UNAVAILABLE,
                        "unavailable",
                        what
                            + " not done: "
                            + (e.getCause() == null ? e : e.getCause()).getMessage()));
    return withRequestTimeout(
        DurationConverters.toScala(settings.actionTimeout().plusSeconds(5)),
        () -> onSuccess(answer, this::complete));
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
}
