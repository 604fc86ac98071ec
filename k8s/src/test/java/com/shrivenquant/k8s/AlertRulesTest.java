package com.shrivenquant.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The PrometheusRule's groups as a plain rules file, checked by promtool, unit-tested by promtool
 * (k8s/monitoring-tests), and each alert's test shown to bite.
 */
class AlertRulesTest {
  static final String RULES = "shrivenquant.rules.yaml";
  static final String TESTS = "shrivenquant-alerts.test.yaml";

  static final List<String> SEED_ALERTS =
      List.of(
          "ShrivenQuantSystemDown",
          "ShrivenQuantOrderRejectionRateHigh",
          "ShrivenQuantOrderLatencyHigh",
          "ShrivenQuantPositionLimitBreach",
          "ShrivenQuantMemoryHigh",
          "ShrivenQuantDiskHigh",
          "ShrivenQuantReplicationLagHigh",
          "ShrivenQuantLeaseAgeHigh");

  /** spec of the rendered PrometheusRule; the same in every overlay. */
  static ObjectNode ruleSpec() {
    JsonNode first = null;
    for (String overlay : Overlays.names()) {
      JsonNode spec = Overlays.load(overlay).get("PrometheusRule", "shrivenquant").path("spec");
      if (first == null) first = spec;
      assertEquals(first, spec, overlay + " renders other rules");
    }
    return (ObjectNode) first.deepCopy();
  }

  static List<ObjectNode> rules(JsonNode spec) {
    List<ObjectNode> rules = new ArrayList<>();
    for (JsonNode g : spec.path("groups"))
      for (JsonNode r : g.path("rules")) rules.add((ObjectNode) r);
    return rules;
  }

  /** Writes the rules file and the promtool unit tests into one directory. */
  static Path write(String dirName, JsonNode spec) throws IOException {
    Path dir = Tools.workDir(dirName);
    Files.writeString(dir.resolve(RULES), Manifest.YAML.writeValueAsString(spec));
    Files.copy(
        Tools.k8sDir().resolve("monitoring-tests").resolve(TESTS),
        dir.resolve(TESTS),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return dir;
  }

  static Tools.Result promtool(Path dir, String... args) {
    List<String> cmd = new ArrayList<>(List.of(Tools.promtool()));
    cmd.addAll(List.of(args));
    return Tools.run(cmd, dir);
  }

  @Test
  void promtoolChecksAndUnitTestsTheRules() throws IOException {
    Path dir = write("promtool", ruleSpec());
    Tools.Result check = promtool(dir, "check", "rules", RULES);
    assertEquals(0, check.exit(), check.both());
    assertTrue(check.both().contains("SUCCESS"), check.both());
    Tools.Result test = promtool(dir, "test", "rules", TESTS);
    assertEquals(0, test.exit(), test.both());
  }

  @Test
  void everySeedAlertExistsWithItsSeverityAndHasAFiringAndAQuietTest() throws IOException {
    Set<String> alerts = new TreeSet<>();
    for (ObjectNode r : rules(ruleSpec())) {
      if (!r.has("alert")) continue;
      alerts.add(r.path("alert").asText());
      assertTrue(
          Set.of("critical", "warning").contains(r.path("labels").path("severity").asText()),
          r.toString());
    }
    assertEquals(new TreeSet<>(SEED_ALERTS), alerts);
    Set<String> critical =
        Set.of(
            "ShrivenQuantSystemDown",
            "ShrivenQuantOrderRejectionRateHigh",
            "ShrivenQuantOrderLatencyHigh",
            "ShrivenQuantPositionLimitBreach");
    for (ObjectNode r : rules(ruleSpec()))
      if (r.has("alert"))
        assertEquals(
            critical.contains(r.path("alert").asText()) ? "critical" : "warning",
            r.path("labels").path("severity").asText(),
            r.path("alert").asText());
    JsonNode tests =
        Manifest.YAML.readTree(Tools.k8sDir().resolve("monitoring-tests").resolve(TESTS).toFile());
    Set<String> fires = new TreeSet<>();
    Set<String> quiet = new TreeSet<>();
    for (JsonNode t : tests.path("tests"))
      for (JsonNode a : t.path("alert_rule_test"))
        (a.path("exp_alerts").isEmpty() ? quiet : fires).add(a.path("alertname").asText());
    assertEquals(alerts, fires, "a test where each alert fires");
    assertEquals(alerts, quiet, "a test where each alert stays quiet");
  }

  static List<String> seedAlerts() {
    return SEED_ALERTS;
  }

  /**
   * An alert that never fires fails its firing test; one with a tenfold lower threshold fails its
   * quiet test.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("seedAlerts")
  void eachAlertsTestsBite(String alert) throws IOException {
    ObjectNode neverFires = ruleSpec();
    rules(neverFires).stream()
        .filter(r -> alert.equals(r.path("alert").asText()))
        .forEach(r -> r.put("expr", "vector(1) < 0"));
    Tools.Result silent =
        promtool(write("bite-silent-" + alert, neverFires), "test", "rules", TESTS);
    assertNotEquals(0, silent.exit(), alert + " never firing went unnoticed");
    assertTrue(silent.both().contains(alert), silent.both());

    ObjectNode trigger = ruleSpec();
    for (ObjectNode r : rules(trigger)) {
      if (!alert.equals(r.path("alert").asText())) continue;
      String expr = r.path("expr").asText();
      String lowered = lowerThresholds(expr);
      assertNotEquals(expr, lowered, "no threshold found in " + expr);
      r.put("expr", lowered);
    }
    Tools.Result noisy = promtool(write("bite-noisy-" + alert, trigger), "test", "rules", TESTS);
    assertNotEquals(0, noisy.exit(), alert + " firing below its threshold went unnoticed");
    assertTrue(noisy.both().contains(alert), noisy.both());
  }

  /** "> t" becomes ">= t/10", "== 0" becomes ">= 0". */
  static String lowerThresholds(String expr) {
    StringBuilder out = new StringBuilder();
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(>|==)\\s*([0-9.]+)").matcher(expr);
    while (m.find()) {
      double t = Double.parseDouble(m.group(2));
      m.appendReplacement(out, ">= " + (t == 0 ? "0" : Double.toString(t / 10)));
    }
    m.appendTail(out);
    return out.toString();
  }

  @Test
  void promtoolRejectsABrokenExpression() throws IOException {
    ObjectNode broken = ruleSpec();
    rules(broken).get(0).put("expr", "sum by (namespace) (rate(sq_orders_accepted_total[5m])");
    Tools.Result check = promtool(write("broken-expr", broken), "check", "rules", RULES);
    assertNotEquals(0, check.exit(), check.both());
  }

  @Test
  void rulesUseOnlyMetricsTheNodeKamonOrPrometheusProduce() {
    Set<String> allowed = new TreeSet<>(Metrics.NODE);
    allowed.addAll(Metrics.KAMON);
    allowed.addAll(Metrics.PROMETHEUS);
    for (ObjectNode r : rules(ruleSpec()))
      if (r.has("record")) allowed.add(r.path("record").asText());
    for (ObjectNode r : rules(ruleSpec()))
      for (String name : Metrics.names(r.path("expr").asText()))
        assertTrue(allowed.contains(name), "unknown metric " + name + " in " + r);
    assertEquals(
        Set.of("sq_orders_accepted_total", "up"),
        Metrics.names(
            "sum by (namespace) (rate(sq_orders_accepted_total{a=\"b\"}[5m])) or up offset 5m > 0"));
  }

  /**
   * Thresholds agree with the node: histogram thresholds sit on Kamon's time-bucket boundaries
   * (exact quantiles there), the lease-age warning lies between the renew interval and the fence
   * margin.
   */
  @Test
  void thresholdsAgreeWithTheNodesConfiguration() {
    Config c = new Pod(Overlays.load("production/region-1")).config();
    List<Double> latency = buckets(c, "sq.order.ack.latency");
    assertTrue(latency.contains(0.01), "10 ms latency threshold is a bucket boundary: " + latency);
    List<Double> lag = buckets(c, "sq.replication.lag");
    assertTrue(lag.contains(0.1), "100 ms lag threshold is a bucket boundary: " + lag);
    double fence = c.getDuration("shrivenquant.failover.lease.fence-margin").toMillis() / 1000.0;
    double renew = c.getDuration("shrivenquant.failover.lease.renew-interval").toMillis() / 1000.0;
    String lease =
        rules(ruleSpec()).stream()
            .filter(r -> r.path("alert").asText().equals("ShrivenQuantLeaseAgeHigh"))
            .findFirst()
            .orElseThrow()
            .path("expr")
            .asText();
    double threshold = Double.parseDouble(lease.replaceAll("(?s).*>\\s*([0-9.]+)\\s*$", "$1"));
    assertTrue(
        threshold > renew && threshold < fence, threshold + " between " + renew + " and " + fence);
  }

  /** A time histogram's Prometheus buckets: its own (buckets.custom) or Kamon's time-buckets. */
  static List<Double> buckets(Config c, String kamonMetric) {
    String custom = "kamon.prometheus.buckets.custom.\"" + kamonMetric + "\"";
    return c.hasPath(custom)
        ? c.getDoubleList(custom)
        : c.getDoubleList("kamon.prometheus.buckets.time-buckets");
  }
}
