package com.shrivenquant.cluster.ops;

import akka.http.javadsl.model.AttributeKeys;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.RemoteAddress;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Authorization;
import akka.http.javadsl.model.headers.HttpChallenge;
import akka.http.javadsl.model.headers.HttpCredentials;
import akka.http.javadsl.model.headers.RetryAfter;
import akka.http.javadsl.model.headers.WWWAuthenticate;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Complete;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.server.RouteResult;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Bearer-token access to an operator route: a source refused by the {@link FailureThrottle} gets
 * 429; no or an unknown token, 401 with {@code WWW-Authenticate: Bearer}; a known token whose role
 * is too low, 403; otherwise the route runs. Every call is audited with its outcome; a mutating
 * call is audited as started before it runs, and does not run if that row cannot be written. The
 * token itself is never logged, stored or answered.
 */
public final class BearerTokenGuard extends AllDirectives {
  private static final String REALM = "shrivenquant-operator";

  private final TokenStore tokens;
  private final FailureThrottle throttle;
  private final AuditStore audit;

  public BearerTokenGuard(TokenStore tokens, FailureThrottle throttle, AuditStore audit) {
    this.tokens = tokens;
    this.throttle = throttle;
    this.audit = audit;
  }

  /** Who is calling: a token's id and role, and the address the call came from. */
  public record Caller(TokenStore.Principal principal, String source) {
    /** For incidents and logs: "token-id@address". */
    public String describe() {
      return principal.tokenId() + "@" + source;
    }
  }

  public Route protect(OperatorRole required, Function<Caller, Route> inner) {
    return protect(request -> required, inner);
  }

  /**
   * @param required the role a request needs (Akka Management's member PUT: by its operation)
   */
  public Route protect(
      Function<HttpRequest, OperatorRole> required, Function<Caller, Route> inner) {
    return extractRequest(
        request -> {
          OperatorRole needed = required.apply(request);
          String method = request.method().value();
          String path = request.getUri().path();
          String source = source(request);
          Optional<Duration> blocked = throttle.blockedFor(source);
          if (blocked.isPresent()) {
            long seconds = Math.max(1, (blocked.get().toMillis() + 999) / 1000);
            return deny(
                new AuditStore.Call(
                    "anonymous", null, method, path, source, needed, "denied", 429, "throttled"),
                OperatorJson.error(
                        StatusCodes.TOO_MANY_REQUESTS,
                        "too_many_requests",
                        "too many invalid tokens from " + source + "; retry in " + seconds + " s")
                    .addHeader(RetryAfter.create(seconds)));
          }
          Optional<String> presented = bearer(request);
          if (presented.isEmpty()) {
            return deny(
                new AuditStore.Call(
                    "anonymous",
                    null,
                    method,
                    path,
                    source,
                    needed,
                    "denied",
                    401,
                    "no bearer token"),
                unauthorized("missing bearer token (Authorization: Bearer <token>)", Map.of()));
          }
          Optional<TokenStore.Principal> principal = tokens.authenticate(presented.get());
          if (principal.isEmpty()) {
            throttle.failed(source);
            return deny(
                new AuditStore.Call(
                    "unknown-token",
                    null,
                    method,
                    path,
                    source,
                    needed,
                    "denied",
                    401,
                    "unknown token"),
                unauthorized("unknown or revoked token", Map.of("error", "invalid_token")));
          }
          TokenStore.Principal who = principal.get();
          if (!who.role().covers(needed)) {
            return deny(
                new AuditStore.Call(
                    who.tokenId(), who.role(), method, path, source, needed, "denied", 403, null),
                OperatorJson.error(
                    StatusCodes.FORBIDDEN,
                    "forbidden",
                    "token '"
                        + who.tokenId()
                        + "' has role "
                        + who.role().label()
                        + "; "
                        + method
                        + " "
                        + path
                        + " needs "
                        + needed.label()));
          }
          AuditStore.Call call =
              new AuditStore.Call(
                  who.tokenId(), who.role(), method, path, source, needed, "started", 0, null);
          Route run =
              mapRouteResultFuture(
                  result -> result.thenCompose(r -> audited(call, r)),
                  () -> inner.apply(new Caller(who, source)).seal());
          if (request.method().equals(HttpMethods.GET) || request.method().equals(HttpMethods.HEAD))
            return run;
          CompletionStage<Boolean> started = audit.record(call).handle((ok, e) -> e == null);
          return onSuccess(
              started,
              ok ->
                  ok
                      ? run
                      : complete(
                          OperatorJson.error(
                              StatusCodes.SERVICE_UNAVAILABLE,
                              "audit_unavailable",
                              "the audit log cannot be written: nothing was done")));
        });
  }

  private CompletionStage<RouteResult> audited(AuditStore.Call started, RouteResult r) {
    int status = r instanceof Complete c ? c.getResponse().status().intValue() : 0;
    String outcome = status >= 200 && status < 300 ? "ok" : "failed";
    return audit
        .record(
            new AuditStore.Call(
                started.actor(),
                started.role(),
                started.method(),
                started.path(),
                started.source(),
                started.required(),
                outcome,
                status,
                null))
        .handle((ok, e) -> r); // a read answered is still answered; AuditStore logged the failure
  }

  private Route deny(AuditStore.Call call, HttpResponse response) {
    return onComplete(audit.record(call), done -> complete(response));
  }

  private static HttpResponse unauthorized(String message, Map<String, String> params) {
    return OperatorJson.error(StatusCodes.UNAUTHORIZED, "unauthorized", message)
        .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", REALM, params)));
  }

  private static Optional<String> bearer(HttpRequest request) {
    return request
        .getHeader(Authorization.class)
        .map(Authorization::credentials)
        .filter(c -> c.scheme().equalsIgnoreCase("bearer"))
        .map(HttpCredentials::token)
        .map(String::strip)
        .filter(t -> !t.isEmpty());
  }

  // The TCP peer (akka.http.server.remote-address-attribute): a client cannot forge it the way it
  // can an X-Forwarded-For header.
  static String source(HttpRequest request) {
    return request
        .getAttribute(AttributeKeys.remoteAddress)
        .flatMap(RemoteAddress::getAddress)
        .map(InetAddress::getHostAddress)
        .orElse("unknown");
  }
}
