package com.shrivenquant.cluster.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.shrivenquant.cluster.NodeMain;
import com.shrivenquant.cluster.http.OrderApiClient;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.lease.JdbcPrimacyLease;
import com.shrivenquant.local.dev.LocalClusterLayout;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.infra.ChildJvm;
import com.shrivenquant.testkit.infra.KafkaBroker;
import com.shrivenquant.testkit.infra.LocalPostgres;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One real node process (region-2) with the production logback and Kamon configuration, on real
 * PostgreSQL and a real Kafka broker. Region-1 holds the lease once and never renews it, so the
 * node starts as a standby in epoch 1 and promotes itself to epoch 2: its logs, metrics and spans
 * are looked at from the outside, as an operator's tools would (stdout, the Prometheus endpoint
 * with promtool, an OTLP receiver).
 */
class NodeTelemetryIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  static final Path WORK = Path.of("target", "telemetry-it");

  static LocalPostgres postgres;
  static KafkaBroker kafka;
  static HttpServer otlp;
  static final List<ExportTraceServiceRequest> exports = new CopyOnWriteArrayList<>();
  static LocalClusterLayout layout;
  static ChildJvm node;
  static String nodeName;

  @BeforeAll
  static void start() throws Exception {
    Files.createDirectories(WORK);
    postgres = LocalPostgres.start();
    LocalPostgres.Database journal = postgres.createDatabase("region2");
    LocalPostgres.Database witness = postgres.createDatabase("witness");
    kafka =
        KafkaBroker.builder()
            .name("telemetry-kafka")
            .jvmOptions("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
            .start();

    FailoverSettings.Jdbc w =
        new FailoverSettings.Jdbc(witness.jdbcUrl(), witness.user(), witness.password());
    JdbcPrimacyLease.migrate(w, Duration.ofSeconds(2));
    try (JdbcPrimacyLease lease =
        new JdbcPrimacyLease(w, Duration.ofSeconds(2), Duration.ofSeconds(2))) {
      assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    }

    otlp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    otlp.createContext(
        "/v1/traces",
        exchange -> {
          exports.add(
              ExportTraceServiceRequest.parseFrom(exchange.getRequestBody().readAllBytes()));
          exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    otlp.start();

    layout =
        LocalClusterLayout.allocate(
                1,
                new LocalClusterLayout.Journal(
                    journal.jdbcUrl(), journal.user(), journal.password()))
            .with("logback.configurationFile", "logback.xml") // what production writes
            .with("shrivenquant.node.region", "region-2")
            .with("shrivenquant.failover.enabled", "true")
            .with("shrivenquant.failover.peer-region", "region-1")
            .with("shrivenquant.failover.initial-active-region", "region-1")
            .with("shrivenquant.failover.lease.witness.jdbc-url", witness.jdbcUrl())
            .with("shrivenquant.failover.lease.witness.user", witness.user())
            .with("shrivenquant.failover.lease.witness.password", witness.password())
            .with("shrivenquant.failover.replication.bootstrap-servers", kafka.bootstrapServers())
            .with(
                "shrivenquant.telemetry.otlp.endpoint",
                "http://127.0.0.1:" + otlp.getAddress().getPort())
            .with("shrivenquant.telemetry.otlp.protocol", "http/protobuf")
            .with("kamon.metric.tick-interval", "1 second")
            .with("kamon.trace.tick-interval", "1 second")
            .with("shrivenquant.engine.synthetic-instruments.count", "0")
            .with("shrivenquant.engine.default-limits.max-position", "1000");
    nodeName = "127.0.0.1:" + layout.ports(0).akka();
    node =
        ChildJvm.builder("telemetry-node", NodeMain.class)
            .jvmOptions("-Xmx384m", "-XX:+UseSerialGC")
            .systemProperties(layout.systemProperties(0))
            .start();
    layout.awaitReady(Duration.ofSeconds(120));
    awaitScrape(
        s -> value(s, "sq_region_epoch") == 2 && value(s, "sq_region_active") == 1,
        Duration.ofSeconds(90),
        "region-2 promoted to epoch 2 and accepting");
    // Kamon collects storage usage every 10 s, the first time 10 s after it started.
    awaitScrape(
        s -> value(s, "host_storage_mount_space_total_bytes") > 0,
        Duration.ofSeconds(30),
        "host storage metrics collected");
  }

  @AfterAll
  static void stop() {
    if (node != null) node.stop(Duration.ofSeconds(10));
    if (otlp != null) otlp.stop(0);
    if (kafka != null) kafka.close();
    if (postgres != null) postgres.close();
  }

  // ------------------------------------------------------------------ metrics

  @Test
  void scrapeUnderOrderLoadShowsLatencyAndRejectionsMovingAndPromtoolAcceptsIt() throws Exception {
    // The baseline: after an order of its own (every series exists) and once nothing is pending.
    assertEquals(
        200,
        place(OrderApiClient.limitOrder("ACME", "warm", "warm-1", "BUY", 9_990, 1, "GTC"), null)
            .statusCode());
    String before = settled();

    int valid = 300;
    int perRejection = 30;
    List<String> orders = new ArrayList<>();
    for (int i = 0; i < valid; i++)
      orders.add(
          OrderApiClient.limitOrder(
              "ACME",
              "acct-" + i % 20,
              "ok-" + i,
              i % 2 == 0 ? "BUY" : "SELL",
              i % 2 == 0 ? 9_990 - i % 5 : 10_010 + i % 5,
              1,
              "GTC"));
    for (int i = 0; i < perRejection; i++) {
      orders.add(
          OrderApiClient.limitOrder("ACME", "big", "qty-" + i, "BUY", 10_000, 2_000_000, "GTC"));
      orders.add(OrderApiClient.limitOrder("ACME", "band", "band-" + i, "BUY", 20_000, 1, "GTC"));
      orders.add(
          OrderApiClient.limitOrder("ACME", "whale", "pos-" + i, "BUY", 10_000, 1_500, "GTC"));
    }
    Map<String, Integer> outcomes = load(orders, 8);
    assertEquals(
        Map.of(
            "NEW",
            valid,
            "MAX_ORDER_QUANTITY",
            perRejection,
            "PRICE_BAND",
            perRejection,
            "POSITION_LIMIT",
            perRejection),
        outcomes,
        "every order answered with its decision");

    int total = orders.size();
    double ackCount = value(before, "sq_order_ack_latency_seconds_count");
    String after =
        awaitScrape(
            s -> value(s, "sq_order_ack_latency_seconds_count") >= ackCount + total,
            Duration.ofSeconds(20),
            "the load's acks in the latency histogram");

    assertEquals(
        ackCount + total,
        value(after, "sq_order_ack_latency_seconds_count"),
        "one latency per decision");
    assertTrue(
        value(after, "sq_order_ack_latency_seconds_sum")
            > value(before, "sq_order_ack_latency_seconds_sum"));
    assertEquals(
        value(after, "sq_order_ack_latency_seconds_count"),
        value(after, "sq_order_ack_latency_seconds_bucket", "le", "+Inf"),
        "+Inf bucket holds every ack");
    assertEquals(valid, delta(before, after, "sq_orders_accepted_total"));
    for (String reason : List.of("max_order_quantity", "price_band", "position_limit"))
      assertEquals(
          perRejection, delta(before, after, "sq_orders_rejected_total", "reason", reason), reason);
    assertEquals(0, delta(before, after, "sq_orders_rejected_total", "reason", "max_notional"));
    assertEquals(perRejection, delta(before, after, "sq_position_limit_breaches_total"));
    assertTrue(value(after, "sq_open_orders", "instrument", "ACME") > 0, "resting orders counted");

    // The promotion that made this node active, and its region gauges.
    assertEquals(1, value(after, "sq_failovers_total", "kind", "promotion"));
    assertEquals(0, value(after, "sq_failovers_total", "kind", "switchover"));
    assertEquals(1, value(after, "sq_failover_duration_seconds_count", "kind", "promotion"));
    double leaseAge = value(after, "sq_lease_age_seconds");
    assertTrue(
        leaseAge >= 0 && leaseAge < 1.4, "lease renewed within the fence margin: " + leaseAge);
    assertTrue(value(after, "jvm_memory_used_bytes_count", "region", "heap") > 0);
    assertTrue(value(after, "jvm_memory_max_bytes", "region", "heap") > 0);
    assertTrue(value(after, "host_storage_mount_space_total_bytes") > 0);

    for (String sample : samples(after))
      assertTrue(
          sample.contains("sq_region=\"region-2\"")
              && sample.contains("sq_node=\"" + nodeName + "\""),
          "every series names region and node: " + sample);

    Path scrape = WORK.resolve("scrape.txt");
    Files.writeString(scrape, after);
    Tool check = promtool(scrape);
    assertEquals(0, check.exit(), "promtool check metrics: " + check.output());
    assertFalse(
        check.output().contains("no help text"), "every series has HELP: " + check.output());
  }

  @Test
  void exportedFamiliesAreTheOnesTheAlertRulesAndDashboardUse() throws Exception {
    String scrape = scrape();
    Set<String> expectedNode = new TreeSet<>();
    Set<String> kamon = new TreeSet<>();
    for (String line :
        Files.readAllLines(Path.of("..", "k8s", "monitoring-tests", "node-metrics.txt"))) {
      String[] f = line.strip().split("\\s+");
      if (f.length != 2) continue;
      if (f[0].equals("node")) expectedNode.add(f[1].replaceAll("_(bucket|sum|count)$", ""));
      if (f[0].equals("kamon")) kamon.add(f[1]);
    }
    Set<String> exportedNode = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)^# TYPE (sq_\\w+) ").matcher(scrape);
    while (m.find()) exportedNode.add(m.group(1));
    assertEquals(
        expectedNode,
        exportedNode,
        "sq_* families: k8s/monitoring-tests/node-metrics.txt vs the scrape");
    for (String name : kamon)
      assertTrue(
          samples(scrape).stream().anyMatch(s -> s.startsWith(name + "{")),
          name + " in the scrape");
  }

  @Test
  void promtoolRefusesABrokenScrape() throws Exception {
    String scrape = scrape();
    String broken = scrape.replaceFirst("(?m)^(sq_\\w+\\{[^}]*}) \\S+$", "$1 not-a-number");
    assertNotEquals(scrape, broken, "a sample line was broken");
    Path file = WORK.resolve("broken-scrape.txt");
    Files.writeString(file, broken);
    assertNotEquals(0, promtool(file).exit(), "promtool must reject an unparsable sample");
  }

  // ------------------------------------------------------------------ logs

  @Test
  void everyLogLineIsJsonWithRegionNodeAndTheEpochOfItsTime() throws Exception {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : node.outputLines()) {
      JsonNode json;
      try {
        json = JSON.readTree(line);
      } catch (IOException e) {
        throw new AssertionError("not a JSON log line: " + line, e);
      }
      assertEquals("region-2", json.path("region").asText(), line);
      assertEquals(nodeName, json.path("node").asText(), line);
      assertTrue(json.path("epoch").isIntegralNumber(), line);
      lines.add(json);
    }
    int standby = indexOf(lines, l -> l.path("epoch").asLong() == 1);
    int promoted = indexOf(lines, l -> l.path("epoch").asLong() == 2);
    assertTrue(
        standby >= 0 && promoted > standby,
        "epoch 1 lines, then epoch 2 lines after the promotion");
    assertTrue(
        indexOf(lines, l -> l.path("logger_name").asText().startsWith("akka.")) >= 0,
        "Akka's own lines carry them too");
    assertTrue(
        lines.stream()
            .anyMatch(
                l ->
                    l.path("epoch").asLong() == 2
                        && l.path("message").asText().contains("active in epoch 2")),
        "the promotion's summary in epoch 2");
  }

  // ------------------------------------------------------------------ traces

  @Test
  void anOrdersSpansReachTheOtlpReceiverFromHttpThroughEntityToJournalWrite() throws Exception {
    SecureRandom random = new SecureRandom();
    byte[] traceId = new byte[16];
    byte[] clientSpan = new byte[8];
    random.nextBytes(traceId);
    random.nextBytes(clientSpan);
    HexFormat hex = HexFormat.of();
    String traceParent = "00-" + hex.formatHex(traceId) + "-" + hex.formatHex(clientSpan) + "-01";
    HttpResponse<String> r =
        place(
            OrderApiClient.limitOrder("GLOBX", "traced", "t-1", "BUY", 25_000, 1, "GTC"),
            traceParent);
    assertEquals(200, r.statusCode(), r.body());

    ByteString trace = ByteString.copyFrom(traceId);
    Map<String, Span> byName = new TreeMap<>();
    Eventually.await(
        "the order's three spans exported",
        Duration.ofSeconds(30),
        () -> {
          for (ExportTraceServiceRequest export : exports)
            export
                .getResourceSpansList()
                .forEach(
                    rs ->
                        rs.getScopeSpansList()
                            .forEach(
                                ss ->
                                    ss.getSpansList()
                                        .forEach(
                                            s -> {
                                              if (s.getTraceId().equals(trace))
                                                byName.put(s.getName(), s);
                                            })));
          return new TreeSet<>(byName.keySet());
        },
        names -> names.size() >= 3);
    assertEquals(
        Set.of("POST /api/v1/orders", "instrument.place", "instrument.journal-write"),
        byName.keySet(),
        exports.size() + " OTLP exports received");
    Span http = byName.get("POST /api/v1/orders");
    Span entity = byName.get("instrument.place");
    Span write = byName.get("instrument.journal-write");
    assertEquals(
        ByteString.copyFrom(clientSpan),
        http.getParentSpanId(),
        "the server span continues the client's");
    assertEquals(
        http.getSpanId(), entity.getParentSpanId(), "entity span is the HTTP span's child");
    assertEquals(
        entity.getSpanId(), write.getParentSpanId(), "journal write is the entity span's child");
    assertTrue(
        write.getAttributesList().stream().anyMatch(a -> a.getKey().equals("orders")),
        "batch size tagged");
  }

  // ------------------------------------------------------------------ plumbing

  static HttpResponse<String> place(String body, String traceParent)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(layout.httpBase(0).resolve("/api/v1/orders"))
            .timeout(Duration.ofSeconds(15))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (traceParent != null) b.header("traceparent", traceParent);
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Sends every order, at most `concurrency` in flight; counts the outcomes (status or reject
   * reason).
   */
  static Map<String, Integer> load(List<String> orders, int concurrency) throws Exception {
    Semaphore inFlight = new Semaphore(concurrency);
    Map<String, Integer> outcomes = new TreeMap<>();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    URI uri = layout.httpBase(0).resolve("/api/v1/orders");
    for (String body : orders) {
      inFlight.acquire();
      all.add(
          HTTP.sendAsync(
                  HttpRequest.newBuilder(uri)
                      .timeout(Duration.ofSeconds(15))
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofString(body))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .thenAccept(
                  r -> {
                    String outcome;
                    try {
                      JsonNode json = JSON.readTree(r.body());
                      outcome =
                          r.statusCode() != 200
                              ? "HTTP " + r.statusCode()
                              : json.path("status").asText().equals("REJECTED")
                                  ? json.path("rejectReason").asText()
                                  : json.path("status").asText();
                    } catch (IOException e) {
                      outcome = "unreadable";
                    }
                    synchronized (outcomes) {
                      outcomes.merge(outcome, 1, Integer::sum);
                    }
                  })
              .whenComplete((v, e) -> inFlight.release()));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    return outcomes;
  }

  static String scrape() throws IOException, InterruptedException {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(layout.metrics(0)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  /**
   * A scrape once the acks counted stop moving (the endpoint shows the last tick, every second
   * here).
   */
  static String settled() throws Exception {
    String previous = scrape();
    for (int i = 0; i < 40; i++) {
      Thread.sleep(1_500);
      String now = scrape();
      if (value(now, "sq_order_ack_latency_seconds_count")
              == value(previous, "sq_order_ack_latency_seconds_count")
          && value(now, "sq_order_ack_latency_seconds_count") > 0) return now;
      previous = now;
    }
    throw new AssertionError("the ack count did not settle");
  }

  static String awaitScrape(Predicate<String> condition, Duration timeout, String what)
      throws Exception {
    return Eventually.await(what, timeout, NodeTelemetryIT::scrape, condition);
  }

  /** Sample lines (no comments). */
  static List<String> samples(String scrape) {
    return scrape.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
  }

  /** Sum of the series of that name whose labels include the given pairs; 0 when there is none. */
  static double value(String scrape, String name, String... labelPairs) {
    double sum = 0;
    for (String sample : samples(scrape)) {
      int brace = sample.indexOf('{');
      int space = sample.lastIndexOf(' ');
      String sampleName = brace < 0 ? sample.substring(0, space) : sample.substring(0, brace);
      if (!sampleName.equals(name)) continue;
      boolean match = true;
      for (int i = 0; i < labelPairs.length; i += 2)
        match &= sample.contains(labelPairs[i] + "=\"" + labelPairs[i + 1] + "\"");
      if (match) sum += Double.parseDouble(sample.substring(space + 1));
    }
    return sum;
  }

  static double delta(String before, String after, String name, String... labelPairs) {
    return value(after, name, labelPairs) - value(before, name, labelPairs);
  }

  static int indexOf(List<JsonNode> lines, Predicate<JsonNode> p) {
    for (int i = 0; i < lines.size(); i++) if (p.test(lines.get(i))) return i;
    return -1;
  }

  record Tool(int exit, String output) {}

  /** promtool (Debian package prometheus) on PATH; .ci/run installs it. */
  static Tool promtool(Path scrape) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("promtool", "check", "metrics")
            .redirectInput(scrape.toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Tool(p.waitFor(), out);
  }
}
