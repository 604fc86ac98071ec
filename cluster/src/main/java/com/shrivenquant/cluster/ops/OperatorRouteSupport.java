package com.shrivenquant.cluster.ops;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import com.fasterxml.jackson.databind.JsonNode;
import com.shrivenquant.failover.Failover;
import com.shrivenquant.failover.region.RegionCoordinatorActor;
import java.time.Duration;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import scala.jdk.javaapi.DurationConverters;

/**
 * What the operator API's route groups share: the guard, the failover façade (404 when it is off),
 * answers computed off the HTTP threads, the optional reason of an action, and commands to the
 * region's coordinator. One place, so every group answers errors alike.
 */
abstract class OperatorRouteSupport extends AllDirectives {
  private static final int MAX_REASON_CHARS = 500;

  final ActorSystem<?> system;
  final BearerTokenGuard guard;
  private final Duration actionTimeout;
  private final Executor blocking;

  OperatorRouteSupport(
      ActorSystem<?> system, BearerTokenGuard guard, Duration actionTimeout, Executor blocking) {
    this.system = system;
    this.guard = guard;
    this.actionTimeout = actionTimeout;
    this.blocking = blocking;
  }

  static String requestedBy(BearerTokenGuard.Caller caller, Optional<String> reason) {
    return "operator " + caller.describe() + reason.map(r -> " (" + r + ")").orElse("");
  }

  final Optional<Failover> failover() {
    return Optional.of(Failover.get(system)).filter(Failover::enabled);
  }

  final Route failoverDisabled() {
    return complete(
        OperatorJson.error(
            StatusCodes.NOT_FOUND, "failover_disabled", "failover is disabled on this node"));
  }

  final Route unavailable(String message) {
    return complete(OperatorJson.error(StatusCodes.SERVICE_UNAVAILABLE, "unavailable", message));
  }

  final Route badRequest(String message) {
    return complete(OperatorJson.error(StatusCodes.BAD_REQUEST, "bad_request", message));
  }

  interface Read {
    Object get() throws Exception;
  }

  /** A database read: its JSON (a String is JSON already), or 503. */
  final Route read(Read read) {
    return answer(
        () -> {
          Object body = read.get();
          return body instanceof String s
              ? OperatorJson.raw(StatusCodes.OK, s)
              : OperatorJson.json(StatusCodes.OK, body);
        });
  }

  interface Answering {
    HttpResponse get() throws Exception;
  }

  /**
   * An answer that reads PostgreSQL or a file: computed on the blocking dispatcher; 503 if it
   * throws.
   */
  final Route answer(Answering answering) {
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

  /**
   * An optional JSON body {@code {"reason": "..."}}, recorded with the action. Anything else is
   * refused with 400 before the action runs.
   */
  final Route withReason(Function<Optional<String>, Route> inner) {
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

  interface Answer {
    Object body(Failover failover, RegionCoordinatorActor.Done done);
  }

  /**
   * A command to the region's coordinator: 200 with {@code ok}'s body, 409 if it refused, 503 if it
   * did not answer.
   */
  final Route command(
      String what,
      akka.japi.function.Function<
              ActorRef<RegionCoordinatorActor.Done>, RegionCoordinatorActor.Message>
          message,
      Answer ok) {
    Optional<Failover> w = failover();
    if (w.isEmpty()) return failoverDisabled();
    CompletionStage<HttpResponse> answer =
        w.get()
            .command(message, actionTimeout)
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
        DurationConverters.toScala(actionTimeout.plusSeconds(5)),
        () -> onSuccess(answer, this::complete));
  }
}
