package com.shrivenquant.cluster.http;

import static akka.http.javadsl.server.PathMatchers.segment;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RetryAfter;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.MalformedRequestContentRejection;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.pattern.AskTimeoutException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.shrivenquant.cluster.http.OrderJson.InvalidRequest;
import com.shrivenquant.cluster.http.OrderJson.ValidOrder;
import com.shrivenquant.cluster.region.RegionWiring;
import com.shrivenquant.cluster.telemetry.OrderMetrics;
import com.shrivenquant.engine.core.CancelResult;
import com.shrivenquant.engine.core.Fill;
import com.shrivenquant.engine.core.OrderStatus;
import com.shrivenquant.engine.core.Outcome;
import com.shrivenquant.engine.core.RejectReason;
import com.shrivenquant.engine.instrument.InstrumentEntity.NotPlaced;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.Placed;
import com.shrivenquant.engine.instrument.OrderEntry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/** The order-entry HTTP/JSON API ({@code docs/openapi.yaml}). */
public final class OrderRoutes extends AllDirectives {
  static final int MAX_DEPTH = 100;
  private final OrderEntry entry;
  private final long maxBodyBytes;
  private final RegionWiring region;

  public OrderRoutes(OrderEntry entry, long maxBodyBytes, RegionWiring region) {
    this.entry = entry;
    this.maxBodyBytes = maxBodyBytes;
    this.region = region;
  }

  // Outside an ACTIVE region with a fresh lease nothing reaches an entity, reads included: a
  // standby's entities must first recover from the fully replicated journal at promotion.
  private Route gated(java.util.function.Supplier<Route> inner) {
    return extractRequest(
        request -> {
          var status = region.agent().map(a -> a.status());
          var tagged =
              status.map(
                  s ->
                      (Route)
                          respondWithHeader(
                              akka.http.javadsl.model.headers.RawHeader.create(
                                  "X-ShrivenQuant-Region", s.region() + ";epoch=" + s.epoch()),
                              inner));
          if (status.isEmpty()) return inner.get();
          if (!status.get().accepting()) {
            return complete(
                errorResponse(
                        StatusCodes.SERVICE_UNAVAILABLE,
                        "region_not_active",
                        RegionWiring.refusal(status.get()))
                    .addHeader(RetryAfter.create(1L)));
          }
          return tagged.get();
        });
  }

  public Route route() {
    return handleExceptions(
        exceptionHandler(),
        () ->
            handleRejections(
                rejectionHandler(),
                () ->
                    pathPrefix(
                        segment("api").slash("v1"),
                        () ->
                            gated(
                                () ->
                                    concat(
                                        path(
                                            "orders",
                                            () ->
                                                post(
                                                    () ->
                                                        withSizeLimit(
                                                            maxBodyBytes,
                                                            () ->
                                                                optionalHeaderValueByName(
                                                                    "traceparent",
                                                                    traceParent ->
                                                                        entity(
                                                                            Unmarshaller
                                                                                .entityToString(),
                                                                            body ->
                                                                                place(
                                                                                    body,
                                                                                    traceParent)))))),
                                        path("instruments", () -> get(this::instruments)),
                                        pathPrefix(
                                            segment("instruments").slash(segment()),
                                            this::instrument))))));
  }

  private Route instrument(String symbol) {
    if (!entry.knows(symbol)) {
      return error(
          StatusCodes.NOT_FOUND, "unknown_instrument", "unknown instrument '" + symbol + "'");
    }
    return concat(
        path(
            "orders",
            () ->
                get(
                    () ->
                        parameterOptional(
                            "account",
                            account ->
                                parameterOptional(
                                    "clientOrderId",
                                    clientOrderId ->
                                        orderByClientId(symbol, account, clientOrderId))))),
        path(
            segment("orders").slash(segment()),
            id ->
                concat(
                    get(() -> withOrderId(id, orderId -> order(symbol, orderId))),
                    delete(
                        () ->
                            parameterOptional(
                                "account",
                                account ->
                                    withOrderId(
                                        id, orderId -> cancel(symbol, orderId, account)))))),
        path("book", () -> get(() -> parameterOptional("depth", depth -> book(symbol, depth)))),
        path(
            segment("positions").slash(segment()),
            account -> get(() -> position(symbol, account))));
  }

  // ------------------------------------------------------------------ handlers

  private Route place(String body, Optional<String> traceParent) {
    ValidOrder order = OrderJson.parsePlaceOrder(body);
    if (!entry.knows(order.instrument())) {
      return error(
          StatusCodes.NOT_FOUND,
          "unknown_instrument",
          "unknown instrument '" + order.instrument() + "'");
    }
    OrderMetrics.Ack ack = OrderMetrics.start(traceParent);
    return completeWithFuture(
        respond(
                durable(entry.place(order.instrument(), order.request(), ack.traceParent())),
                r -> {
                  if (r instanceof Placed p)
                    return json(StatusCodes.OK, OrderAck.of(order.instrument(), p.outcome()));
                  return unavailable(((NotPlaced) r).reason());
                })
            .thenApply(
                response -> {
                  // Only a Placed reply is answered 200: a decision, accepted or rejected.
                  ack.answered(
                      response.status().intValue(),
                      response.status().intValue() == 200,
                      order.instrument());
                  return response;
                }));
  }

  private Route cancel(String symbol, long orderId, Optional<String> account) {
    String acct = OrderJson.identifier("account", account.orElse(null));
    return reply(
        durable(entry.cancel(symbol, acct, orderId)),
        r -> {
          if (r.result() == null) return unavailable(r.notDoneReason());
          CancelResult c = r.result();
          return switch (c.status()) {
            case CANCELLED -> json(StatusCodes.OK, withInstrument(symbol, c));
            case UNKNOWN_ORDER ->
                errorResponse(
                    StatusCodes.NOT_FOUND,
                    "unknown_order",
                    "no order " + orderId + " in " + symbol);
            case NOT_OPEN ->
                errorResponse(
                    StatusCodes.CONFLICT,
                    "order_not_open",
                    "order " + orderId + " is no longer open");
            case WRONG_ACCOUNT ->
                errorResponse(
                    StatusCodes.FORBIDDEN,
                    "wrong_account",
                    "order " + orderId + " does not belong to account '" + acct + "'");
          };
        });
  }

  private Route order(String symbol, long orderId) {
    return reply(
        entry.order(symbol, orderId),
        r -> orderOrNotFound(symbol, r, "no order " + orderId + " in " + symbol));
  }

  private Route orderByClientId(
      String symbol, Optional<String> account, Optional<String> clientOrderId) {
    String acct = OrderJson.identifier("account", account.orElse(null));
    String clientId = OrderJson.identifier("clientOrderId", clientOrderId.orElse(null));
    return reply(
        entry.orderByClientId(symbol, acct, clientId),
        r ->
            orderOrNotFound(
                symbol,
                r,
                "no order with clientOrderId '"
                    + clientId
                    + "' for account '"
                    + acct
                    + "' in "
                    + symbol));
  }

  private static HttpResponse orderOrNotFound(String symbol, OrderReply r, String notFound) {
    return r.order()
        .map(o -> json(StatusCodes.OK, withInstrument(symbol, o)))
        .orElseGet(() -> errorResponse(StatusCodes.NOT_FOUND, "unknown_order", notFound));
  }

  private Route book(String symbol, Optional<String> depthParam) {
    int depth = 10;
    if (depthParam.isPresent()) {
      try {
        depth = Integer.parseInt(depthParam.get());
      } catch (NumberFormatException e) {
        depth = -1;
      }
      if (depth < 1 || depth > MAX_DEPTH)
        throw new InvalidRequest(
            "query parameter 'depth' must be an integer from 1 to "
                + MAX_DEPTH
                + ", was '"
                + depthParam.get()
                + "'");
    }
    return reply(entry.depth(symbol, depth), r -> json(StatusCodes.OK, r));
  }

  private Route position(String symbol, String account) {
    OrderJson.identifier("account", account);
    return reply(entry.position(symbol, account), r -> json(StatusCodes.OK, r));
  }

  private Route instruments() {
    return complete(
        HttpResponse.create()
            .withEntity(
                ContentTypes.APPLICATION_JSON,
                OrderJson.write(Map.of("instruments", entry.settings().instruments().values()))));
  }

  // ------------------------------------------------------------------ plumbing

  private Route withOrderId(String raw, Function<Long, Route> inner) {
    long id;
    try {
      id = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      id = -1;
    }
    if (id <= 0) throw new InvalidRequest("orderId must be a positive integer, was '" + raw + "'");
    return inner.apply(id);
  }

  /** In sync durability, a decision is answered only once it is durable in the standby's Kafka. */
  private <T> CompletionStage<T> durable(CompletionStage<T> answer) {
    return region
        .syncAcks()
        .<CompletionStage<T>>map(
            waiter ->
                answer.thenCompose(
                    v ->
                        waiter
                            .awaitDurable()
                            .handle(
                                (ok, e) -> {
                                  if (e != null) throw new NotDurableYet();
                                  return v;
                                })))
        .orElse(answer);
  }

  private static final class NotDurableYet extends RuntimeException {
    NotDurableYet() {
      super(null, null, false, false);
    }
  }

  private <T> Route reply(CompletionStage<T> answer, Function<T, HttpResponse> render) {
    return completeWithFuture(respond(answer, render));
  }

  private <T> CompletionStage<HttpResponse> respond(
      CompletionStage<T> answer, Function<T, HttpResponse> render) {
    return answer.handle(
        (value, failure) -> {
          if (failure == null) return render.apply(value);
          Throwable cause =
              failure instanceof CompletionException && failure.getCause() != null
                  ? failure.getCause()
                  : failure;
          if (cause instanceof NotDurableYet) {
            return unavailable(
                "decided here but not yet durable in the standby region; retry with the same"
                    + " clientOrderId to get the outcome once it is");
          }
          if (cause instanceof TimeoutException || cause instanceof AskTimeoutException) {
            return unavailable(
                "no answer from the instrument in time; retry with the same clientOrderId");
          }
          return errorResponse(
              StatusCodes.INTERNAL_SERVER_ERROR, "internal_error", String.valueOf(cause));
        });
  }

  /** The answer to a placed order, written straight to JSON (this is the hot path). */
  record OrderAck(
      String instrument,
      long orderId,
      String account,
      String clientOrderId,
      OrderStatus status,
      RejectReason rejectReason,
      String rejectMessage,
      List<Fill> fills,
      long filledQuantity,
      long remainingQuantity,
      long cancelledQuantity) {
    static OrderAck of(String instrument, Outcome o) {
      return new OrderAck(
          instrument,
          o.orderId(),
          o.account(),
          o.clientOrderId(),
          o.status(),
          o.rejectReason(),
          o.rejectReason() == null ? null : o.rejectReason().message(),
          o.fills(),
          o.filledQuantity(),
          o.remainingQuantity(),
          o.cancelledQuantity());
    }
  }

  private static ObjectNode withInstrument(String symbol, Object value) {
    ObjectNode node = OrderJson.MAPPER.createObjectNode();
    node.put("instrument", symbol);
    node.setAll((ObjectNode) OrderJson.MAPPER.valueToTree(value));
    return node;
  }

  static HttpResponse json(StatusCode status, Object body) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(ContentTypes.APPLICATION_JSON, OrderJson.write(body));
  }

  static HttpResponse errorResponse(StatusCode status, String code, String message) {
    return ApiError.response(status, code, message);
  }

  private Route error(StatusCode status, String code, String message) {
    return complete(errorResponse(status, code, message));
  }

  private static HttpResponse unavailable(String message) {
    return errorResponse(StatusCodes.SERVICE_UNAVAILABLE, "unavailable", message)
        .addHeader(RetryAfter.create(1L));
  }

  private static HttpResponse tooLarge(EntityStreamSizeException e) {
    return errorResponse(
        StatusCodes.PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "request body exceeds " + e.limit() + " bytes");
  }

  private ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .match(
            InvalidRequest.class,
            e -> complete(errorResponse(StatusCodes.BAD_REQUEST, "bad_request", e.getMessage())))
        .match(EntityStreamSizeException.class, e -> complete(tooLarge(e)))
        .match(
            IllegalArgumentException.class,
            e -> complete(errorResponse(StatusCodes.BAD_REQUEST, "bad_request", e.getMessage())))
        .build();
  }

  // Akka's default rejection texts, as the JSON error shape every other answer uses.
  private RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handle(
            MalformedRequestContentRejection.class,
            r ->
                r.getCause() instanceof EntityStreamSizeException e
                    ? complete(tooLarge(e))
                    : complete(errorResponse(StatusCodes.BAD_REQUEST, "bad_request", r.message())))
        .build()
        .withFallback(ApiError.inThisShape(RejectionHandler.defaultHandler()));
  }
}
