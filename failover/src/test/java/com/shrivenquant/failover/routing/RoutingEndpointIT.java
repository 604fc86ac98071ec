package com.shrivenquant.failover.routing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The routing endpoint (the local stand-in for client DNS) in front of two tiny HTTP servers
 * standing for the regions' order APIs: forwarding with path, query and body intact, epoch-ordered
 * route updates, refusal of malformed updates, and a fast 503 with Retry-After while the routed
 * region is gone, until promotion moves the route.
 */
class RoutingEndpointIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final byte[] ORDER =
      "{\"symbol\":\"ÄBC\",\"side\":\"buy\",\"qty\":10,\"clientOrderId\":\"c-1\"}"
          .getBytes(StandardCharsets.UTF_8);

  static ActorSystem<Void> system;
  static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private Upstream a;
  private Upstream b;
  private RoutingEndpoint endpoint;

  @BeforeAll
  static void actorSystem() {
    system =
        ActorSystem.create(
            Behaviors.empty(),
            "RoutingEndpointIT",
            ConfigFactory.parseString("akka.actor.provider = local\nakka.loglevel = WARNING")
                .withFallback(ConfigFactory.load()));
  }

  @AfterAll
  static void stopSystem() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  @BeforeEach
  void start() throws Exception {
    a = Upstream.start("region-A");
    b = Upstream.start("region-B");
    endpoint = RoutingEndpoint.start(system, "127.0.0.1", 0, null);
  }

  @AfterEach
  void stop() {
    endpoint.stop();
    a.stop();
    b.stop();
  }

  @Test
  void forwardsToTheActiveRegionWithMethodPathQueryAndBodyIntact() throws Exception {
    HttpResponse<String> none = order("/api/v1/orders");
    assertEquals(503, none.statusCode(), "no route yet");
    assertEquals("1", none.headers().firstValue("Retry-After").orElse(null));

    HttpResponse<String> put =
        putRoute("{\"region\":\"region-A\",\"epoch\":2,\"orderApiUrl\":\"" + a.url() + "\"}");
    assertEquals(200, put.statusCode(), put.body());
    assertRoute("region-A", 2, a.url());

    HttpResponse<String> placed =
        send(
            HttpRequest.newBuilder(uri("/api/v1/orders?account=7&side=buy"))
                .header("Content-Type", "application/json")
                .header("X-Request-Id", "r-42")
                .POST(HttpRequest.BodyPublishers.ofByteArray(ORDER)));
    assertEquals(201, placed.statusCode(), placed.body());
    assertEquals(
        "region-A;epoch=2", placed.headers().firstValue("X-ShrivenQuant-Routed-To").orElse(null));
    assertEquals("accepted by region-A", placed.body(), "the upstream's answer comes back");
    Received got = a.next();
    assertEquals("POST", got.method());
    assertEquals("/api/v1/orders", got.path());
    assertEquals("account=7&side=buy", got.query());
    assertArrayEquals(ORDER, got.body());
    assertEquals("application/json", got.contentType());
    assertEquals("r-42", got.requestId());

    HttpResponse<String> query = send(HttpRequest.newBuilder(uri("/api/v1/orders/c-1")).GET());
    assertEquals(200, query.statusCode());
    Received get = a.next();
    assertEquals("GET", get.method());
    assertEquals("/api/v1/orders/c-1", get.path());
    // No query in, none out. (The endpoint forwards an empty one: the upstream sees ".../c-1?".)
    assertTrue(get.query() == null || get.query().isEmpty(), get.query());
    assertEquals(0, get.body().length);
    b.assertNothing();
  }

  @Test
  void anUpdateWithAnOlderEpochIsRefusedAndChangesNothing() throws Exception {
    assertEquals(200, putRoute(route("region-A", 2, a.url())).statusCode());
    HttpResponse<String> older = putRoute(route("region-B", 1, b.url()));
    assertEquals(409, older.statusCode(), older.body());
    assertRoute("region-A", 2, a.url());
    assertEquals(201, order("/api/v1/orders").statusCode());
    assertArrayEquals(ORDER, a.next().body());
    b.assertNothing();
  }

  @Test
  void aMalformedUpdateIsRefusedWith400AndChangesNothing() throws Exception {
    assertEquals(200, putRoute(route("region-A", 2, a.url())).statusCode());
    List<String> malformed =
        List.of(
            "not json",
            "",
            "{\"region\":\"region-B\",\"epoch\":9}",
            "{\"epoch\":9,\"orderApiUrl\":\"" + b.url() + "\"}",
            "{\"region\":\"region-B\",\"epoch\":9,\"orderApiUrl\":\"  \"}",
            "{\"region\":\"region-B\",\"epoch\":\"nine\",\"orderApiUrl\":\"" + b.url() + "\"}",
            "{\"region\":\"region-B\",\"epoch\":9,\"orderApiUrl\":\""
                + b.url()
                + "\",\"extra\":true}",
            "[\"region-B\",9,\"" + b.url() + "\"]");
    for (String body : malformed) {
      HttpResponse<String> r = putRoute(body);
      assertEquals(400, r.statusCode(), "PUT " + body + " -> " + r.body());
      assertRoute("region-A", 2, a.url());
    }
    assertEquals(201, order("/api/v1/orders").statusCode());
    a.next();
    b.assertNothing();
  }

  @Test
  void aDeadRegionAnswers503WithRetryAfterFastAndTheNextRouteTakesOver() throws Exception {
    assertEquals(200, putRoute(route("region-A", 2, a.url())).statusCode());
    assertEquals(201, order("/api/v1/orders").statusCode());
    a.next();

    a.stop(); // region A dies; no new route yet
    // The HTTP client pool backs off exponentially from a dead host: the forward timeout caps it.
    for (int i = 0; i < 6; i++) {
      long t0 = System.nanoTime();
      HttpResponse<String> r = order("/api/v1/orders");
      long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      System.out.printf("region A down: answer %d after %d ms%n", r.statusCode(), took);
      assertEquals(503, r.statusCode(), r.body());
      assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
      assertTrue(took < 1_500, "took " + took + " ms; the forward timeout is 1 s");
      assertTrue(r.body().contains("region-A"), r.body());
    }

    assertEquals(200, putRoute(route("region-B", 3, b.url())).statusCode());
    HttpResponse<String> moved = order("/api/v1/orders");
    assertEquals(201, moved.statusCode(), moved.body());
    assertEquals(
        "region-B;epoch=3", moved.headers().firstValue("X-ShrivenQuant-Routed-To").orElse(null));
    assertEquals("accepted by region-B", moved.body());
    Received got = b.next();
    assertEquals("/api/v1/orders", got.path());
    assertArrayEquals(ORDER, got.body());
    // A fenced region-A coming back cannot pull clients back with its old epoch.
    assertEquals(409, putRoute(route("region-A", 2, a.url())).statusCode());
    assertRoute("region-B", 3, b.url());
  }

  @Test
  void aRegionThatAcceptsButNeverAnswersGets503AfterTheForwardTimeout() throws Exception {
    try (Silent silent = Silent.start()) {
      assertEquals(200, putRoute(route("region-A", 2, silent.url())).statusCode());
      long t0 = System.nanoTime();
      HttpResponse<String> r = order("/api/v1/orders");
      long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      System.out.printf("region A silent: answer %d after %d ms%n", r.statusCode(), took);
      assertEquals(503, r.statusCode(), r.body());
      assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
      assertTrue(silent.accepted() > 0, "the request did reach the silent region");
      assertTrue(took >= 900 && took < 2_500, "took " + took + " ms; the forward timeout is 1 s");

      assertEquals(200, putRoute(route("region-B", 3, b.url())).statusCode());
      assertEquals(201, order("/api/v1/orders").statusCode());
      assertArrayEquals(ORDER, b.next().body());
    }
  }

  /**
   * A route whose orderApiUrl is not a URL would send every order to a 400 and, at a high epoch,
   * lock out the real promotion's route: it is refused and the route kept.
   */
  @Test
  void anUpdateWhoseOrderApiUrlIsNotAUrlIsRefused() throws Exception {
    assertEquals(200, putRoute(route("region-A", 2, a.url())).statusCode());
    HttpResponse<String> r = putRoute(route("region-B", 5, "not a url"));
    assertEquals(400, r.statusCode(), r.body());
    assertRoute("region-A", 2, a.url());
    assertEquals(201, order("/api/v1/orders").statusCode());
  }

  // --- helpers ---

  private URI uri(String pathAndQuery) {
    return URI.create(endpoint.url() + pathAndQuery);
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(
        request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> order(String path) throws Exception {
    return send(
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(ORDER)));
  }

  private HttpResponse<String> putRoute(String body) throws Exception {
    return send(
        HttpRequest.newBuilder(uri("/routing/active"))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  private static String route(String region, long epoch, String url) {
    return "{\"region\":\""
        + region
        + "\",\"epoch\":"
        + epoch
        + ",\"orderApiUrl\":\""
        + url
        + "\"}";
  }

  private void assertRoute(String region, long epoch, String url) throws Exception {
    HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/routing/active")).GET());
    assertEquals(200, r.statusCode());
    JsonNode route = JSON.readTree(r.body());
    assertEquals(region, route.get("region").asText(), r.body());
    assertEquals(epoch, route.get("epoch").asLong(), r.body());
    assertEquals(url, route.get("orderApiUrl").asText(), r.body());
    assertEquals(new RoutingEndpoint.Route(region, epoch, url), endpoint.current());
  }

  record Received(
      String method,
      String path,
      String query,
      String contentType,
      String requestId,
      byte[] body) {}

  /** A region's order API: records each request and answers 201 (POST) or 200. */
  static final class Upstream {
    final String region;
    final HttpServer server;
    final ExecutorService executor = Executors.newFixedThreadPool(2);
    final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    volatile boolean stopped;

    private Upstream(String region, HttpServer server) {
      this.region = region;
      this.server = server;
    }

    static Upstream start(String region) throws IOException {
      Upstream u =
          new Upstream(
              region,
              HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0));
      u.server.createContext(
          "/",
          exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            u.received.add(
                new Received(
                    exchange.getRequestMethod(),
                    exchange.getRequestURI().getRawPath(),
                    exchange.getRequestURI().getRawQuery(),
                    exchange.getRequestHeaders().getFirst("Content-Type"),
                    exchange.getRequestHeaders().getFirst("X-Request-Id"),
                    body));
            byte[] answer = ("accepted by " + region).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(
                exchange.getRequestMethod().equals("POST") ? 201 : 200, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(answer);
            }
          });
      u.server.setExecutor(u.executor);
      u.server.start();
      return u;
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    Received next() throws InterruptedException {
      Received r = received.poll(5, TimeUnit.SECONDS);
      if (r == null) throw new AssertionError(region + " received nothing");
      return r;
    }

    void assertNothing() {
      assertEquals(List.of(), new ArrayList<>(received), region + " must have received nothing");
    }

    void stop() {
      if (stopped) return;
      stopped = true;
      server.stop(0);
      executor.shutdownNow();
    }
  }

  /** Accepts connections and reads, never answers: a region that hangs. */
  static final class Silent implements AutoCloseable {
    final ServerSocket server;
    final List<Socket> sockets = new ArrayList<>();
    final Thread acceptor;

    private Silent(ServerSocket server) {
      this.server = server;
      this.acceptor = new Thread(this::accept, "silent-region");
      this.acceptor.setDaemon(true);
    }

    static Silent start() throws IOException {
      Silent s = new Silent(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
      s.acceptor.start();
      return s;
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket socket = server.accept();
          synchronized (sockets) {
            sockets.add(socket);
          }
          Thread reader =
              new Thread(
                  () -> {
                    try (InputStream in = socket.getInputStream()) {
                      in.transferTo(OutputStream.nullOutputStream());
                    } catch (IOException ignored) {
                      // closed
                    }
                  },
                  "silent-reader");
          reader.setDaemon(true);
          reader.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    int accepted() {
      synchronized (sockets) {
        return sockets.size();
      }
    }

    String url() {
      return "http://127.0.0.1:" + server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
      synchronized (sockets) {
        for (Socket s : sockets) s.close();
      }
    }
  }
}
