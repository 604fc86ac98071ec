package com.shrivenquant.cluster.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Real HTTP calls against a node's order API, for tests. */
public final class OrderApiClient {
  public static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private OrderApiClient() {}

  public static String limitOrder(
      String instrument,
      String account,
      String clientOrderId,
      String side,
      long price,
      long qty,
      String tif) {
    ObjectNode n = JSON.createObjectNode();
    n.put("instrument", instrument)
        .put("account", account)
        .put("clientOrderId", clientOrderId)
        .put("side", side)
        .put("type", "LIMIT")
        .put("price", price)
        .put("quantity", qty)
        .put("timeInForce", tif);
    return n.toString();
  }

  public static HttpResponse<String> send(URI base, String method, String path, String body)
      throws IOException, InterruptedException {
    return send(base, method, path, body, Duration.ofSeconds(15));
  }

  public static HttpResponse<String> send(
      URI base, String method, String path, String body, Duration perRequest)
      throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(perRequest);
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public static JsonNode json(HttpResponse<String> r, int status) throws IOException {
    assertEquals(status, r.statusCode(), () -> "body: " + r.body());
    return JSON.readTree(r.body());
  }

  public static JsonNode get(URI base, String path) throws IOException, InterruptedException {
    return json(send(base, "GET", path, null), 200);
  }

  /**
   * Places an order, retrying while the answer is 503 or the connection fails: safe because the
   * clientOrderId makes every retry the same order.
   */
  public static JsonNode placeUntilAnswered(URI base, String body, Duration timeout)
      throws IOException, InterruptedException {
    return placeUntilAnswered(base, body, timeout, Duration.ofSeconds(15));
  }

  /**
   * Retries the same order (same clientOrderId: never placed twice) until it is answered 200; each
   * attempt gives up after {@code perRequest}, as a client with its own timeout does.
   */
  public static JsonNode placeUntilAnswered(
      URI base, String body, Duration timeout, Duration perRequest)
      throws IOException, InterruptedException {
    // Not Eventually: NodeCrashIT times kill-to-first-answer by this loop's fixed 50 ms retries.
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> r = send(base, "POST", "/api/v1/orders", body, perRequest);
        if (r.statusCode() == 200) return JSON.readTree(r.body());
        last = r.statusCode() + " " + r.body();
        if (r.statusCode() != 503) break;
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(50);
    }
    throw new AssertionError("order not answered within " + timeout + ": " + last);
  }
}
