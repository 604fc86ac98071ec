package com.shrivenquant.failover.routing;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.Uri;
import akka.http.javadsl.model.headers.RetryAfter;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local stand-in for client DNS: clients send orders here and it forwards them to the active
 * region's order API; promotion moves it with {@code PUT /routing/active}. An update with an older
 * epoch than the current route is refused (409), so a fenced region can never pull clients back. It
 * runs outside both regions (the drill runs it), as DNS does.
 */
public final class RoutingEndpoint {
  private static final Logger log = LoggerFactory.getLogger(RoutingEndpoint.class);
  static final ObjectMapper ROUTE_JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * @param orderApiUrl one or more comma-separated base URLs of the region's nodes
   */
  public record Route(String region, long epoch, String orderApiUrl) {}

  private static final long FORWARD_TIMEOUT_MS = 1000;
  private final ActorSystem<?> system;
  private final AtomicReference<Route> route = new AtomicReference<>();
  private final AtomicInteger next = new AtomicInteger();
  private ServerBinding binding;

  private RoutingEndpoint(ActorSystem<?> system, Route initial) {
    this.system = system;
    this.route.set(initial);
  }

  public static RoutingEndpoint start(ActorSystem<?> system, String host, int port, Route initial)
      throws Exception {
    RoutingEndpoint endpoint = new RoutingEndpoint(system, initial);
    endpoint.binding =
        Http.get(system)
            .newServerAt(host, port)
            .bind(endpoint::handle)
            .toCompletableFuture()
            .get(10, java.util.concurrent.TimeUnit.SECONDS);
    return endpoint;
  }

  public String url() {
    return "http://"
        + binding.localAddress().getHostString()
        + ":"
        + binding.localAddress().getPort();
  }

  public Route current() {
    return route.get();
  }

  private CompletionStage<HttpResponse> handle(HttpRequest request) {
    String path = request.getUri().path();
    if (path.equals("/routing/active")) {
      if (request.method().value().equals("GET")) return done(json(StatusCodes.OK, route.get()));
      if (request.method().value().equals("PUT")) return update(request);
      return done(error(StatusCodes.METHOD_NOT_ALLOWED, "GET or PUT"));
    }
    if (path.startsWith("/api/")) return forward(request);
    return done(error(StatusCodes.NOT_FOUND, "no route for " + path));
  }

  private CompletionStage<HttpResponse> update(HttpRequest request) {
    return request
        .entity()
        .toStrict(5_000, system)
        .thenApply(
            strict -> {
              Route proposed;
              try {
                proposed = ROUTE_JSON.readValue(strict.getData().toArray(), Route.class);
              } catch (Exception e) {
                return error(
                    StatusCodes.BAD_REQUEST,
                    "body must be {region, epoch, orderApiUrl}: " + e.getMessage());
              }
              if (proposed.region() == null
                  || proposed.orderApiUrl() == null
                  || proposed.orderApiUrl().isBlank()) {
                return error(StatusCodes.BAD_REQUEST, "region and orderApiUrl are required");
              }
              if (proposed.epoch() < 1) return error(StatusCodes.BAD_REQUEST, "epoch must be >= 1");
              for (String url : proposed.orderApiUrl().split(",")) {
                if (!isHttpUrl(url.trim())) {
                  return error(
                      StatusCodes.BAD_REQUEST,
                      "orderApiUrl must be http(s)://host:port URLs, comma-separated: '"
                          + url.trim()
                          + "'");
                }
              }
              Route now =
                  route.updateAndGet(
                      cur -> cur == null || proposed.epoch() >= cur.epoch() ? proposed : cur);
              if (now != proposed) {
                return error(
                    StatusCodes.CONFLICT,
                    "epoch "
                        + proposed.epoch()
                        + " is older than the current route's "
                        + route.get().epoch());
              }
              log.info(
                  "Clients now routed to {} (epoch {}): {}",
                  proposed.region(),
                  proposed.epoch(),
                  proposed.orderApiUrl());
              return json(StatusCodes.OK, proposed);
            });
  }

  private static boolean isHttpUrl(String s) {
    try {
      java.net.URI u = new java.net.URI(s);
      return ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null;
    } catch (java.net.URISyntaxException e) {
      return false;
    }
  }

  private CompletionStage<HttpResponse> forward(HttpRequest request) {
    Route r = route.get();
    if (r == null) return done(unavailable("no active region known yet"));
    List<String> targets = Arrays.stream(r.orderApiUrl().split(",")).map(String::trim).toList();
    String base = targets.get(Math.floorMod(next.getAndIncrement(), targets.size()));
    Uri target = Uri.create(base).path(request.getUri().path());
    if (request.getUri().rawQueryString().isPresent()) {
      target = target.rawQueryString(request.getUri().rawQueryString().get());
    }
    HttpRequest out = request.withUri(target).removeHeader("Timeout-Access");
    // A request queued for a dead region must not outlive the next route change: fail it fast
    // (503) and let the client retry, which then goes where the route points now.
    return Http.get(system)
        .singleRequest(out)
        .toCompletableFuture()
        .orTimeout(FORWARD_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .thenApply(
            resp ->
                resp.addHeader(
                    akka.http.javadsl.model.headers.RawHeader.create(
                        "X-ShrivenQuant-Routed-To", r.region() + ";epoch=" + r.epoch())))
        .exceptionally(
            e -> unavailable("active region " + r.region() + " unreachable: " + e.getMessage()));
  }

  private static CompletionStage<HttpResponse> done(HttpResponse r) {
    return CompletableFuture.completedFuture(r);
  }

  private static HttpResponse json(akka.http.javadsl.model.StatusCode status, Object body) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(
              HttpEntities.create(
                  ContentTypes.APPLICATION_JSON, ROUTE_JSON.writeValueAsBytes(body)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static HttpResponse error(akka.http.javadsl.model.StatusCode status, String message) {
    return json(status, java.util.Map.of("error", status.reason(), "message", message));
  }

  private static HttpResponse unavailable(String message) {
    return error(StatusCodes.SERVICE_UNAVAILABLE, message).addHeader(RetryAfter.create(1L));
  }

  public void stop() {
    if (binding != null) binding.unbind();
  }
}
