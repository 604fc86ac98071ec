package com.shrivenquant.cluster.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.shrivenquant.cluster.NodeMain;
import com.shrivenquant.cluster.NodeMain.Node;
import com.shrivenquant.local.dev.LocalClusterLayout;
import com.shrivenquant.testkit.infra.LocalPostgres;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The order API of one real node on a real PostgreSQL: good input, and bad input that persists
 * nothing.
 */
class OrderRoutesIT {
  static LocalPostgres postgres;
  static LocalPostgres.Database db;
  static Node node;
  static URI base;

  @BeforeAll
  static void start() throws Exception {
    postgres = LocalPostgres.start();
    db = postgres.createDatabase("orders");
    LocalClusterLayout cfg =
        LocalClusterLayout.allocate(
            1, new LocalClusterLayout.Journal(db.jdbcUrl(), db.user(), db.password()));
    node = NodeMain.start(cfg.config(0));
    base = cfg.httpBase(0);
    cfg.awaitReady(Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.system().terminate();
    if (node != null) node.system().getWhenTerminated().toCompletableFuture().join();
    if (postgres != null) postgres.close();
  }

  // ------------------------------------------------------------------ good input

  @Test
  void ordersMatchRepeatsAreIdempotentAndQueriesAnswer() throws Exception {
    long before = journalRows();
    JsonNode sell = place(order("ACME", "seller", "s-1", "SELL", "LIMIT", 10010L, 5L, "GTC"), 200);
    assertEquals("NEW", sell.get("status").asText());
    long sellId = sell.get("orderId").asLong();

    JsonNode buy = place(order("ACME", "buyer", "b-1", "BUY", "LIMIT", 10020L, 3L, "GTC"), 200);
    assertEquals("FILLED", buy.get("status").asText());
    assertEquals(
        10010, buy.get("fills").get(0).get("price").asLong(), "trades at the maker's price");

    JsonNode again = place(order("ACME", "buyer", "b-1", "BUY", "LIMIT", 10020L, 3L, "GTC"), 200);
    assertEquals(buy, again, "a repeated clientOrderId returns the first outcome");
    assertEquals(before + 2, journalRows(), "the repeat persisted nothing");

    JsonNode position = get("/api/v1/instruments/ACME/positions/buyer", 200);
    assertEquals(3, position.get("position").get("netQuantity").asLong());
    JsonNode book = get("/api/v1/instruments/ACME/book?depth=5", 200);
    assertEquals(2, book.get("asks").get(0).get("quantity").asLong());
    assertEquals(10010, book.get("lastTradePrice").asLong());

    JsonNode byClient =
        get("/api/v1/instruments/ACME/orders?account=seller&clientOrderId=s-1", 200);
    assertEquals(sellId, byClient.get("orderId").asLong());
    assertEquals(
        "PARTIALLY_FILLED",
        get("/api/v1/instruments/ACME/orders/" + sellId, 200).get("status").asText());

    error(
        send("DELETE", "/api/v1/instruments/ACME/orders/" + sellId + "?account=buyer", null),
        403,
        "does not belong to account 'buyer'");
    JsonNode cancelled =
        json(
            send("DELETE", "/api/v1/instruments/ACME/orders/" + sellId + "?account=seller", null),
            200);
    assertEquals("CANCELLED", cancelled.get("status").asText());
    assertEquals(2, cancelled.get("cancelledQuantity").asLong());
    error(
        send("DELETE", "/api/v1/instruments/ACME/orders/" + sellId + "?account=seller", null),
        409,
        "no longer open");
    assertEquals(before + 3, journalRows());
  }

  @Test
  void riskRejectionIsADecisionThatIsJournaled() throws Exception {
    long before = journalRows();
    JsonNode r =
        place(order("GLOBX", "acct", "big-1", "BUY", "LIMIT", 25000L, 2_000_000L, "GTC"), 200);
    assertEquals("REJECTED", r.get("status").asText());
    assertEquals("MAX_ORDER_QUANTITY", r.get("rejectReason").asText());
    assertEquals(before + 1, journalRows());
  }

  // ------------------------------------------------------------------ bad input

  static Stream<Arguments> badOrders() {
    String ok =
        "\"instrument\":\"ACME\",\"account\":\"a\",\"clientOrderId\":\"c\",\"side\":\"BUY\"";
    return Stream.of(
        Arguments.of("{not json", 400, "malformed JSON"),
        Arguments.of("", 400, "request body is empty"),
        Arguments.of("[1,2]", 400, "must be a JSON object"),
        Arguments.of(
            "{" + ok + ",\"price\":100,\"quantity\":1,\"colour\":\"red\"}",
            400,
            "unknown field 'colour'"),
        Arguments.of(
            "{\"instrument\":\"ACME\",\"clientOrderId\":\"c\",\"side\":\"BUY\",\"price\":100,\"quantity\":1}",
            400,
            "missing field 'account'"),
        Arguments.of("{" + ok + ",\"price\":100}", 400, "missing field 'quantity'"),
        Arguments.of("{" + ok + ",\"quantity\":1}", 400, "missing field 'price'"),
        Arguments.of(
            "{" + ok + ",\"price\":100,\"quantity\":0}", 400, "'quantity' must be positive"),
        Arguments.of(
            "{" + ok + ",\"price\":100,\"quantity\":-5}", 400, "'quantity' must be positive"),
        Arguments.of("{" + ok + ",\"price\":0,\"quantity\":1}", 400, "'price' must be positive"),
        Arguments.of("{" + ok + ",\"price\":-1,\"quantity\":1}", 400, "'price' must be positive"),
        Arguments.of(
            "{" + ok + ",\"price\":100,\"quantity\":1.5}",
            400,
            "'quantity' must be an integer, was 1.5"),
        Arguments.of(
            "{" + ok + ",\"price\":100,\"quantity\":\"7\"}", 400, "'quantity' has the wrong type"),
        Arguments.of(
            "{" + ok.replace("BUY", "UP") + ",\"price\":100,\"quantity\":1}",
            400,
            "'side' must be one of [BUY, SELL]"),
        Arguments.of(
            "{" + ok + ",\"type\":\"STOP\",\"price\":100,\"quantity\":1}",
            400,
            "'type' must be one of"),
        Arguments.of(
            "{" + ok + ",\"type\":\"MARKET\",\"price\":100,\"quantity\":1}",
            400,
            "MARKET order must not have a price"),
        Arguments.of(
            "{" + ok + ",\"type\":\"MARKET\",\"quantity\":1,\"timeInForce\":\"GTC\"}",
            400,
            "timeInForce must be IOC"),
        Arguments.of(
            "{" + ok + ",\"price\":100,\"quantity\":1,\"timeInForce\":\"DAY\"}",
            400,
            "'timeInForce' must be one of"),
        Arguments.of(
            "{" + ok.replace("\"a\"", "\"a b\"") + ",\"price\":100,\"quantity\":1}",
            400,
            "'account' must be 1-64 characters"),
        Arguments.of(
            "{" + ok.replace("ACME", "NOPE") + ",\"price\":100,\"quantity\":1}",
            404,
            "unknown instrument 'NOPE'"),
        Arguments.of(
            "{" + ok + ",\"price\":100,\"quantity\":1,\"pad\":\"" + "x".repeat(20_000) + "\"}",
            413,
            "exceeds 16384 bytes"));
  }

  @ParameterizedTest(name = "[{index}] {1} {2}")
  @MethodSource("badOrders")
  void badOrderIsRefusedAndPersistsNothing(String body, int status, String message)
      throws Exception {
    long before = journalRows();
    error(send("POST", "/api/v1/orders", body), status, message);
    assertEquals(before, journalRows(), "the journal must not grow");
  }

  static Stream<Arguments> badQueries() {
    return Stream.of(
        Arguments.of("GET", "/api/v1/instruments/NOPE/book", 404, "unknown instrument 'NOPE'"),
        Arguments.of(
            "GET",
            "/api/v1/instruments/ACME/book?depth=0",
            400,
            "'depth' must be an integer from 1 to 100"),
        Arguments.of(
            "GET", "/api/v1/instruments/ACME/book?depth=abc", 400, "'depth' must be an integer"),
        Arguments.of(
            "GET",
            "/api/v1/instruments/ACME/orders/abc",
            400,
            "orderId must be a positive integer"),
        Arguments.of(
            "GET", "/api/v1/instruments/ACME/orders/0", 400, "orderId must be a positive integer"),
        Arguments.of("GET", "/api/v1/instruments/ACME/orders/999999", 404, "no order 999999"),
        Arguments.of("GET", "/api/v1/instruments/NOPE/orders/1", 404, "unknown instrument"),
        Arguments.of(
            "GET",
            "/api/v1/instruments/ACME/orders?account=a",
            400,
            "missing field 'clientOrderId'"),
        Arguments.of(
            "GET",
            "/api/v1/instruments/ACME/orders?account=a&clientOrderId=zz",
            404,
            "no order with clientOrderId 'zz'"),
        Arguments.of(
            "GET",
            "/api/v1/instruments/ACME/positions/bad%20acct",
            400,
            "'account' must be 1-64 characters"),
        Arguments.of("GET", "/api/v1/instruments/NOPE/positions/a", 404, "unknown instrument"),
        Arguments.of("DELETE", "/api/v1/instruments/ACME/orders/1", 400, "missing field 'account'"),
        Arguments.of(
            "DELETE",
            "/api/v1/instruments/ACME/orders/x?account=a",
            400,
            "orderId must be a positive integer"),
        Arguments.of(
            "DELETE", "/api/v1/instruments/ACME/orders/999999?account=a", 404, "no order 999999"),
        Arguments.of(
            "DELETE", "/api/v1/instruments/NOPE/orders/1?account=a", 404, "unknown instrument"),
        Arguments.of("PUT", "/api/v1/orders", 405, "HTTP method not allowed"),
        Arguments.of(
            "GET", "/api/v1/nothing-here", 404, "The requested resource could not be found"));
  }

  @ParameterizedTest(name = "[{index}] {0} {1} -> {2}")
  @MethodSource("badQueries")
  void badQueryIsRefusedAndPersistsNothing(String method, String path, int status, String message)
      throws Exception {
    long before = journalRows();
    error(send(method, path, method.equals("PUT") ? "{}" : null), status, message);
    assertEquals(before, journalRows(), "the journal must not grow");
  }

  // ------------------------------------------------------------------ helpers

  static String order(
      String instrument,
      String account,
      String clientOrderId,
      String side,
      String type,
      Long price,
      Long quantity,
      String tif) {
    var n = OrderApiClient.JSON.createObjectNode();
    n.put("instrument", instrument)
        .put("account", account)
        .put("clientOrderId", clientOrderId)
        .put("side", side)
        .put("type", type)
        .put("quantity", quantity)
        .put("timeInForce", tif);
    if (price != null) n.put("price", price);
    return n.toString();
  }

  static JsonNode place(String body, int status) throws Exception {
    return json(send("POST", "/api/v1/orders", body), status);
  }

  static JsonNode get(String path, int status) throws Exception {
    return json(send("GET", path, null), status);
  }

  static HttpResponse<String> send(String method, String path, String body) throws Exception {
    return OrderApiClient.send(base, method, path, body);
  }

  static JsonNode json(HttpResponse<String> r, int status) throws Exception {
    return OrderApiClient.json(r, status);
  }

  static void error(HttpResponse<String> r, int status, String message) throws Exception {
    JsonNode body = json(r, status);
    assertTrue(body.has("error"), () -> "error code missing: " + r.body());
    assertTrue(
        body.get("message").asText().contains(message),
        () -> "expected message containing '" + message + "' but was: " + r.body());
  }

  static long journalRows() {
    return db.countRows("event_journal");
  }
}
