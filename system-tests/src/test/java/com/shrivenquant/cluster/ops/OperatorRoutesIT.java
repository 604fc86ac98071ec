package com.shrivenquant.cluster.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.Authorization;
import akka.http.javadsl.settings.ClientConnectionSettings;
import akka.http.javadsl.settings.ConnectionPoolSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.shrivenquant.cluster.NodeMain;
import com.shrivenquant.cluster.TwoRegionLayouts;
import com.shrivenquant.cluster.http.OrderApiClient;
import com.shrivenquant.local.dev.LocalClusterLayout;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.KafkaExtension;
import com.shrivenquant.testkit.TestTokens;
import com.shrivenquant.testkit.infra.LocalPostgres;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The operator API for real: two regions of one node each (in this JVM, failover on), their
 * PostgreSQL databases and the witness on one embedded server, a Kafka broker (child JVM), real
 * HTTP on the management port. Every endpoint answers 401 without a token, 403 to a role too low
 * (viewer endpoints, which have no lower role: 401 to an unknown token) and succeeds with the right
 * role, each call with its audit row. Then the actions for real: a drill (a measured switchover), a
 * switchover back, a forced promotion, a fence; token rotation without a restart; the throttle;
 * health probes open; Akka Management's leave and down behind the roles.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorRoutesIT {
  @RegisterExtension static final KafkaExtension kafka = new KafkaExtension();

  static final String FORM = "application/x-www-form-urlencoded";
  static final String JSON_TYPE = "application/json";
  static final Path TOKENS = Path.of("target", "operator-routes-it", "tokens").toAbsolutePath();

  /** The configured throttle: this many unknown tokens from one source within a minute. */
  static final int MAX_FAILURES = 20;

  /** One region: its single in-JVM node and its database. */
  record Region(
      String name, LocalClusterLayout layout, NodeMain.Node node, LocalPostgres.Database db) {
    URI management() {
      return layout.managementBase(0);
    }

    String member() {
      return "shrivenquant@127.0.0.1:" + layout.ports(0).akka();
    }
  }

  /** An endpoint and the role it needs; body and content type for those that take one. */
  record Endpoint(String method, String path, OperatorRole role, String body, String contentType) {
    @Override
    public String toString() {
      return method + " " + path + (body == null ? "" : " " + body);
    }
  }

  /** An answer and the audit rows ("actor|outcome|status") its call left, oldest first. */
  record Answer(java.net.http.HttpResponse<String> response, List<String> audit) {
    int status() {
      return response.statusCode();
    }

    JsonNode json() throws Exception {
      return OperatorApiClient.JSON.readTree(response.body());
    }
  }

  static LocalPostgres postgres;
  static LocalPostgres.Database witness;
  static Region r1;
  static Region r2;

  @BeforeAll
  static void start() throws Exception {
    postgres = LocalPostgres.start();
    witness = postgres.createDatabase("witness");
    LocalPostgres.Database db1 = postgres.createDatabase("region_1");
    LocalPostgres.Database db2 = postgres.createDatabase("region_2");
    writeTokens(TestTokens.VIEWER);
    LocalClusterLayout l1 = layout("region-1", "region-2", db1, db2);
    LocalClusterLayout l2 = layout("region-2", "region-1", db2, db1);
    r1 = new Region("region-1", l1, NodeMain.start(l1.config(0)), db1);
    r2 = new Region("region-2", l2, NodeMain.start(l2.config(0)), db2);
    l1.awaitReady(Duration.ofSeconds(120));
    l2.awaitReady(Duration.ofSeconds(120));
    awaitRole(r1, "ACTIVE", true);
    awaitRole(r2, "STANDBY", false);
  }

  static LocalClusterLayout layout(
      String region, String peer, LocalPostgres.Database db, LocalPostgres.Database peerDb) {
    return TwoRegionLayouts.failoverRegion(
            1, region, peer, db, peerDb, witness, kafka.bootstrapServers())
        .with("shrivenquant.operator-api.tokens-file", TOKENS.toString())
        .with("shrivenquant.operator-api.reload-interval", "200ms")
        .with("shrivenquant.operator-api.throttle.max-failures", Integer.toString(MAX_FAILURES));
  }

  /** The tokens file as the Secret holds it: hashes only. */
  static void writeTokens(String viewerToken) throws Exception {
    Files.createDirectories(TOKENS.getParent());
    Path tmp = TOKENS.resolveSibling("tokens.tmp");
    Files.writeString(
        tmp,
        String.join(
                "\n",
                "# test tokens (testkit TestTokens)",
                TokenStore.line("viewer-1", OperatorRole.VIEWER, viewerToken),
                TokenStore.line("operator-1", OperatorRole.OPERATOR, TestTokens.OPERATOR),
                TokenStore.line("admin-1", OperatorRole.ADMIN, TestTokens.ADMIN))
            + "\n");
    Files.move(tmp, TOKENS, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @AfterAll
  static void stop() {
    for (Region r : new Region[] {r1, r2}) {
      if (r != null) {
        r.node().system().terminate();
        r.node().system().getWhenTerminated().toCompletableFuture().join();
      }
    }
    if (postgres != null) postgres.close();
  }

  // ------------------------------------------------------------------ open routes

  @Test
  @Order(1)
  void healthProbesAndTheBootstrapRouteStayOpen() throws Exception {
    for (String path : List.of("/health/alive", "/health/ready", "/bootstrap/seed-nodes")) {
      Answer a = call(r1, "GET", path, null, null, null);
      assertEquals(200, a.status(), path + ": " + a.response().body());
      assertEquals(List.of(), a.audit(), "not an operator call: " + path);
    }
  }

  // ------------------------------------------------------------------ 401 / 403 for every endpoint

  static Stream<Endpoint> endpoints() {
    String m = "/cluster/members/" + r1.member();
    return Stream.of(
        new Endpoint("GET", "/failover/status", OperatorRole.VIEWER, null, null),
        new Endpoint("GET", "/failover/replication", OperatorRole.VIEWER, null, null),
        new Endpoint("GET", "/failover/incidents", OperatorRole.VIEWER, null, null),
        new Endpoint("GET", "/failover/consistency", OperatorRole.VIEWER, null, null),
        new Endpoint("POST", "/failover/switchover", OperatorRole.OPERATOR, null, null),
        new Endpoint("POST", "/ops/drills", OperatorRole.OPERATOR, null, null),
        new Endpoint("GET", "/ops/drills", OperatorRole.VIEWER, null, null),
        new Endpoint("GET", "/ops/drills/1", OperatorRole.VIEWER, null, null),
        new Endpoint("GET", "/ops/drills/1/report", OperatorRole.VIEWER, null, null),
        new Endpoint("POST", "/ops/promote", OperatorRole.ADMIN, null, null),
        new Endpoint("POST", "/ops/fence", OperatorRole.ADMIN, "{\"reason\":\"test\"}", JSON_TYPE),
        new Endpoint("POST", "/ops/tokens/reload", OperatorRole.ADMIN, null, null),
        new Endpoint("GET", "/ops/audit", OperatorRole.ADMIN, null, null),
        new Endpoint("GET", "/cluster/members", OperatorRole.VIEWER, null, null),
        new Endpoint("GET", m, OperatorRole.VIEWER, null, null),
        new Endpoint("GET", "/cluster/shards/Instrument", OperatorRole.VIEWER, null, null),
        new Endpoint("DELETE", m, OperatorRole.OPERATOR, null, null),
        new Endpoint("PUT", m, OperatorRole.OPERATOR, "operation=Leave", FORM),
        new Endpoint("PUT", m, OperatorRole.ADMIN, "operation=Down", FORM),
        new Endpoint(
            "POST",
            "/cluster/members",
            OperatorRole.ADMIN,
            "address=akka://shrivenquant@127.0.0.1:1",
            FORM),
        new Endpoint(
            "PUT", "/cluster", OperatorRole.ADMIN, "operation=prepare-for-full-shutdown", FORM));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("endpoints")
  @Order(2)
  void withoutATokenOrWithTooLowARoleNothingHappensAndTheRefusalIsAudited(Endpoint e)
      throws Exception {
    Answer none = call(r1, e.method(), e.path(), null, e.body(), e.contentType());
    assertEquals(401, none.status(), none.response().body());
    assertEquals("unauthorized", none.json().path("error").asText());
    assertEquals(
        Optional.of("Bearer realm=\"shrivenquant-operator\""),
        none.response().headers().firstValue("WWW-Authenticate"));
    assertEquals(List.of("anonymous|denied|401"), none.audit());

    if (e.role() == OperatorRole.VIEWER) {
      // No role is lower than viewer: a token no node knows instead.
      Answer unknown =
          call(r1, e.method(), e.path(), TestTokens.UNKNOWN, e.body(), e.contentType());
      assertEquals(401, unknown.status(), unknown.response().body());
      assertTrue(
          unknown
              .response()
              .headers()
              .firstValue("WWW-Authenticate")
              .orElse("")
              .contains("error=invalid_token"));
      assertEquals(List.of("unknown-token|denied|401"), unknown.audit());
    } else {
      OperatorRole lower = OperatorRole.values()[e.role().ordinal() - 1];
      Answer low = call(r1, e.method(), e.path(), tokenOf(lower), e.body(), e.contentType());
      assertEquals(403, low.status(), low.response().body());
      assertEquals("forbidden", low.json().path("error").asText());
      assertTrue(
          low.json().path("message").asText().contains("needs " + e.role().label()),
          low.response().body());
      assertEquals(List.of(idOf(lower) + "|denied|403"), low.audit());
    }
  }

  /**
   * An Authorization header Akka HTTP cannot parse is answered like a missing one, and
   * (NoTokenInTestOutputIT) not logged.
   */
  @Test
  @Order(2)
  void aMalformedAuthorizationHeaderCountsAsNoToken() throws Exception {
    java.net.http.HttpResponse<String> r =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(r1.management().resolve("/failover/status"))
                    .header("Authorization", "Bearer " + TestTokens.UNKNOWN + "\",")
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(401, r.statusCode(), r.body());
    assertFalse(r.body().contains(TestTokens.UNKNOWN));
  }

  @Test
  @Order(3)
  void theRefusedCallsChangedNothing() throws Exception {
    JsonNode s1 = status(r1);
    assertEquals("ACTIVE", s1.path("role").asText());
    assertEquals(1, s1.path("epoch").asLong());
    assertTrue(s1.path("accepting").asBoolean());
    assertEquals("STANDBY", status(r2).path("role").asText());
    assertEquals(1, count(witness, "SELECT epoch FROM primacy_lease"));
    assertEquals(0, count(r1.db(), "SELECT count(*) FROM operator_drill"));
    assertEquals(
        1,
        OperatorApiClient.get(r1.management(), "/cluster/members", TestTokens.VIEWER)
            .path("members")
            .size());
  }

  // ------------------------------------------------------------------ success with the right role

  @Test
  @Order(4)
  void aViewerReadsStatusReplicationReportsIncidentsDrillsAndClusterMembership() throws Exception {
    for (String path :
        List.of(
            "/failover/status",
            "/failover/replication",
            "/failover/incidents",
            "/failover/consistency",
            "/ops/drills",
            "/cluster/members",
            "/cluster/members/" + r1.member(),
            "/cluster/shards/Instrument")) {
      Answer a = call(r1, "GET", path, TestTokens.VIEWER, null, null);
      assertEquals(200, a.status(), path + ": " + a.response().body());
      assertEquals(List.of("viewer-1|ok|200"), a.audit(), path);
    }
    JsonNode status = call(r1, "GET", "/failover/status", TestTokens.VIEWER, null, null).json();
    assertEquals("region-1", status.path("region").asText());
    assertEquals("region-1", status.path("activeRegion").asText());
  }

  @Test
  @Order(5)
  void badInputIsRefusedWith400BeforeAnythingRuns() throws Exception {
    for (String body : List.of("{\"reason\": 5}", "{\"colour\": \"red\"}", "not json", "[1]")) {
      Answer a = call(r1, "POST", "/ops/fence", TestTokens.ADMIN, body, JSON_TYPE);
      assertEquals(400, a.status(), body);
      assertEquals("bad_request", a.json().path("error").asText());
      assertEquals(List.of("admin-1|started|0", "admin-1|failed|400"), a.audit(), body);
    }
    assertEquals(400, call(r1, "GET", "/ops/audit?limit=0", TestTokens.ADMIN, null, null).status());
    assertEquals(
        400, call(r1, "GET", "/ops/audit?beforeId=x", TestTokens.ADMIN, null, null).status());
    assertEquals(400, call(r1, "GET", "/ops/drills/abc", TestTokens.VIEWER, null, null).status());
    assertEquals(404, call(r1, "GET", "/ops/drills/999", TestTokens.VIEWER, null, null).status());
    JsonNode s = status(r1);
    assertEquals("ACTIVE", s.path("role").asText(), "the fence did not run");
    assertTrue(s.path("accepting").asBoolean());
  }

  @Test
  @Order(6)
  void anOperatorRunsADrillAMeasuredSwitchoverToTheStandbyWithItsReportInPostgres()
      throws Exception {
    for (int i = 0; i < 5; i++) {
      OrderApiClient.placeUntilAnswered(
          r1.layout().httpBase(0),
          OrderApiClient.limitOrder("ACME", "drill-acct", "drill-" + i, "BUY", 9_900 + i, 1, "GTC"),
          Duration.ofSeconds(60));
    }
    Answer started =
        call(
            r1,
            "POST",
            "/ops/drills",
            TestTokens.OPERATOR,
            "{\"reason\":\"quarterly drill\"}",
            JSON_TYPE);
    assertEquals(202, started.status(), started.response().body());
    assertEquals(List.of("operator-1|started|0", "operator-1|ok|202"), started.audit());
    long id = started.json().path("id").asLong();

    JsonNode drill = awaitDrill(id);
    assertEquals("SUCCEEDED", drill.path("status").asText(), drill.toString());
    assertTrue(
        drill
            .path("requestedBy")
            .asText()
            .startsWith("operator operator-1@127.0.0.1 (quarterly drill)"),
        drill.toString());
    Answer report = call(r1, "GET", "/ops/drills/" + id + "/report", TestTokens.VIEWER, null, null);
    assertEquals(200, report.status());
    assertEquals(List.of("viewer-1|ok|200"), report.audit());
    JsonNode rep = report.json();
    System.out.println("operator-routes-it | drill report: " + rep);
    assertEquals("CONSISTENT", rep.path("verdict").asText());
    assertEquals("region-2", rep.path("to").asText());
    assertEquals(0, rep.path("eventsLost").asInt());
    assertTrue(rep.path("everythingPublished").asBoolean());
    assertTrue(rep.path("peerEventsChecked").asLong() >= 5, rep.toString());
    long unavailable = rep.path("unavailableMillis").asLong();
    assertTrue(
        unavailable >= rep.path("handoverMillis").asLong() && unavailable > 0, rep.toString());
    assertEquals(1, call(r1, "GET", "/ops/drills", TestTokens.VIEWER, null, null).json().size());

    awaitRole(r2, "ACTIVE", true);
    awaitRole(r1, "STANDBY", false);
  }

  @Test
  @Order(7)
  void anOperatorSwitchesBack() throws Exception {
    Answer a = call(r2, "POST", "/failover/switchover", TestTokens.OPERATOR, null, null);
    assertEquals(200, a.status(), a.response().body());
    assertEquals("region-1", a.json().path("to").asText());
    assertEquals(List.of("operator-1|started|0", "operator-1|ok|200"), a.audit());
    awaitRole(r1, "ACTIVE", true);
    awaitRole(r2, "STANDBY", false);
  }

  @Test
  @Order(8)
  void anAdminForcesThePromotionOfTheStandbyWhichWaitsOutTheOldHoldersTtl() throws Exception {
    long epochBefore = count(witness, "SELECT epoch FROM primacy_lease");
    long t0 = System.nanoTime();
    Answer a =
        call(
            r2,
            "POST",
            "/ops/promote",
            TestTokens.ADMIN,
            "{\"reason\":\"region-1 degraded\"}",
            JSON_TYPE);
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.println(
        "operator-routes-it | forced promotion answered after "
            + tookMs
            + " ms: "
            + a.response().body());
    assertEquals(200, a.status(), a.response().body());
    assertEquals(List.of("admin-1|started|0", "admin-1|ok|200"), a.audit());
    assertEquals(epochBefore + 1, a.json().path("epoch").asLong());
    // region-1 still renewed a fresh lease: it was seized, and region-2 waited one ttl before
    // intake.
    assertEquals(
        List.of("seize"),
        strings(
            witness, "SELECT how FROM primacy_lease_history WHERE epoch = " + (epochBefore + 1)));
    assertTrue(tookMs >= 2000, "the ttl (2 s) was waited out: " + tookMs + " ms");
    awaitRole(r2, "ACTIVE", true);
    awaitRole(r1, "STANDBY", false);

    Answer again = call(r2, "POST", "/ops/promote", TestTokens.ADMIN, null, null);
    assertEquals(409, again.status(), "an active region cannot be promoted");
    assertEquals(List.of("admin-1|started|0", "admin-1|failed|409"), again.audit());
  }

  @Test
  @Order(9)
  void anAdminFencesTheActiveRegionWhichStopsAcceptingAndTheStandbyTakesOver() throws Exception {
    Answer a = call(r2, "POST", "/ops/fence", TestTokens.ADMIN, null, null);
    assertEquals(200, a.status(), a.response().body());
    assertEquals(List.of("admin-1|started|0", "admin-1|ok|200"), a.audit());
    JsonNode now = status(r2);
    assertEquals("FENCED", now.path("role").asText());
    assertFalse(now.path("accepting").asBoolean(), "stopped accepting when the call returned");
    awaitRole(r1, "ACTIVE", true);
    awaitRole(r2, "STANDBY", false);
  }

  @Test
  @Order(10)
  void anAdminReloadsTokensAndReadsTheAuditLogWhichNamesTokenIdsOnly() throws Exception {
    Answer reload = call(r1, "POST", "/ops/tokens/reload", TestTokens.ADMIN, null, null);
    assertEquals(200, reload.status(), reload.response().body());
    assertEquals(
        4, reload.json().path("tokens").asInt(), "three from the file, the layout's own admin");
    assertEquals(List.of("admin-1|started|0", "admin-1|ok|200"), reload.audit());

    Answer audit = call(r1, "GET", "/ops/audit?limit=1000", TestTokens.ADMIN, null, null);
    assertEquals(200, audit.status());
    assertEquals(List.of("admin-1|ok|200"), audit.audit());
    List<String> seen = new ArrayList<>();
    for (JsonNode row : audit.json())
      seen.add(
          row.path("actor").asText()
              + " "
              + row.path("action").asText()
              + " "
              + row.path("outcome").asText());
    assertTrue(seen.contains("anonymous POST /ops/promote denied"), "denied calls are audited");
    assertTrue(seen.contains("operator-1 POST /ops/drills ok"));
    assertTrue(
        seen.contains("region-coordinator:region-1 promotion ok"),
        "failover's own entries are there too");
  }

  @Test
  @Order(11)
  void rotatingTheTokensFileTakesEffectWithoutARestart() throws Exception {
    writeTokens(TestTokens.ROTATED_VIEWER);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos(); // 10 s for both
    for (Region r : List.of(r1, r2)) {
      Eventually.await(
          "the old token refused on " + r.name() + " (10 s from the rotation)",
          Duration.ofMillis(
              Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))),
          () -> call(r, "GET", "/failover/status", TestTokens.VIEWER, null, null).status(),
          status -> status == 401);
      Answer rotated = call(r, "GET", "/failover/status", TestTokens.ROTATED_VIEWER, null, null);
      assertEquals(200, rotated.status());
      assertEquals(List.of("viewer-1|ok|200"), rotated.audit());
    }
  }

  @Test
  @Order(12)
  void aSourceThatKeepsGuessingIsThrottledAndOtherSourcesAreNot() throws Exception {
    for (int i = 0; i < MAX_FAILURES; i++) {
      assertEquals(
          401, fromSecondLoopback("/failover/status", TestTokens.UNKNOWN).status().intValue());
    }
    long mark = auditMark(r1);
    HttpResponse blocked = fromSecondLoopback("/failover/status", TestTokens.ADMIN);
    assertEquals(429, blocked.status().intValue(), "even a valid token, from that source");
    long retryAfter = Long.parseLong(blocked.getHeader("Retry-After").orElseThrow().value());
    assertTrue(retryAfter > 0 && retryAfter <= 60, "Retry-After " + retryAfter);
    assertEquals(List.of("anonymous|denied|429"), auditSince(r1, mark, "GET /failover/status"));
    assertEquals(
        List.of("127.0.0.2"), strings(r1.db(), "SELECT source FROM audit_log WHERE id > " + mark));
    assertEquals(
        200,
        call(r1, "GET", "/failover/status", TestTokens.ADMIN, null, null).status(),
        "127.0.0.1 is not blocked");
  }

  @Test
  @Order(13)
  void leaveNeedsAnOperatorAndDownAnAdmin() throws Exception {
    Answer otherMember =
        call(
            r1,
            "PUT",
            "/cluster/members/shrivenquant@127.0.0.1:1",
            TestTokens.OPERATOR,
            "operation=Leave",
            FORM);
    assertEquals(
        404, otherMember.status(), "an operator may ask a leave (of a member that is not there)");
    assertEquals(List.of("operator-1|started|0", "operator-1|failed|404"), otherMember.audit());

    Answer leave =
        call(r1, "DELETE", "/cluster/members/" + r1.member(), TestTokens.OPERATOR, null, null);
    assertEquals(200, leave.status(), leave.response().body());
    assertTrue(leave.response().body().contains("Leaving"), leave.response().body());
    assertEquals(List.of("operator-1|started|0", "operator-1|ok|200"), leave.audit());

    Answer down =
        call(
            r2, "PUT", "/cluster/members/" + r2.member(), TestTokens.ADMIN, "operation=Down", FORM);
    assertEquals(200, down.status(), down.response().body());
    assertTrue(down.response().body().contains("Downing"), down.response().body());
    assertEquals(List.of("admin-1|started|0", "admin-1|ok|200"), down.audit());

    for (Region r : List.of(r1, r2)) {
      r.node().system().getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  // ------------------------------------------------------------------ helpers

  /** The call, its answer checked for tokens, and the audit rows it left in the node's database. */
  static Answer call(
      Region r, String method, String path, String token, String body, String contentType)
      throws Exception {
    long mark = auditMark(r);
    java.net.http.HttpResponse<String> response =
        OperatorApiClient.send(r.management(), method, path, token, body, contentType);
    String answered = response.headers().map() + " " + response.body();
    TestTokens.all()
        .forEach(
            (name, value) ->
                assertFalse(
                    answered.contains(value),
                    "the " + name + " token appears in the answer to " + method + " " + path));
    int query = path.indexOf('?');
    return new Answer(
        response,
        auditSince(r, mark, method + " " + (query < 0 ? path : path.substring(0, query))));
  }

  static long auditMark(Region r) throws Exception {
    return count(r.db(), "SELECT coalesce(max(id), 0) FROM audit_log");
  }

  static List<String> auditSince(Region r, long mark, String action) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = r.db().dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT actor || '|' || outcome || '|' || (detail->>'status')"
                    + " FROM audit_log WHERE id > ? AND action = ? ORDER BY id")) {
      ps.setLong(1, mark);
      ps.setString(2, action);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.add(rs.getString(1));
      }
    }
    return out;
  }

  /** A GET to region-1 from 127.0.0.2: another source, as far as the throttle can tell. */
  static HttpResponse fromSecondLoopback(String path, String token) throws Exception {
    ActorSystem<?> system = r1.node().system();
    ConnectionPoolSettings pool =
        ConnectionPoolSettings.create(system.classicSystem())
            .withConnectionSettings(
                ClientConnectionSettings.create(system.classicSystem())
                    .withLocalAddress(Optional.of(new InetSocketAddress("127.0.0.2", 0))));
    HttpResponse r =
        Http.get(system)
            .singleRequest(
                HttpRequest.GET(r1.management().resolve(path).toString())
                    .addHeader(Authorization.oauth2(token)),
                Http.get(system).defaultClientHttpsContext(),
                pool,
                system.classicSystem().log())
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    r.discardEntityBytes(system);
    return r;
  }

  static JsonNode status(Region r) throws Exception {
    return OperatorApiClient.get(r.management(), "/failover/status", TestTokens.ADMIN);
  }

  static void awaitRole(Region r, String role, boolean accepting) throws Exception {
    Eventually.await(
        r.name() + " " + role + " (accepting " + accepting + ")",
        Duration.ofSeconds(120),
        () -> {
          java.net.http.HttpResponse<String> s =
              OperatorApiClient.send(
                  r.management(), "GET", "/failover/status", TestTokens.ADMIN, null, null);
          if (s.statusCode() != 200)
            throw new IllegalStateException("status " + s.statusCode() + ": " + s.body());
          return OperatorApiClient.JSON.readTree(s.body());
        },
        last ->
            role.equals(last.path("role").asText())
                && last.path("accepting").asBoolean() == accepting);
  }

  static JsonNode awaitDrill(long id) throws Exception {
    return Eventually.await(
        "drill " + id + " finished",
        Duration.ofSeconds(180),
        () -> {
          Answer a = call(r1, "GET", "/ops/drills/" + id, TestTokens.VIEWER, null, null);
          assertEquals(200, a.status(), a.response().body());
          assertEquals(List.of("viewer-1|ok|200"), a.audit());
          return a.json();
        },
        d -> !"RUNNING".equals(d.path("status").asText()));
  }

  static String tokenOf(OperatorRole role) {
    return switch (role) {
      case VIEWER -> TestTokens.VIEWER;
      case OPERATOR -> TestTokens.OPERATOR;
      case ADMIN -> TestTokens.ADMIN;
    };
  }

  static String idOf(OperatorRole role) {
    return role.label() + "-1";
  }

  static long count(LocalPostgres.Database db, String sql) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static List<String> strings(LocalPostgres.Database db, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) out.add(rs.getString(1));
    }
    return out;
  }
}
