package com.shrivenquant.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The Grafana dashboard: shipped as a ConfigMap, valid queries, the alerts' signals all on it. */
class DashboardTest {
  static final Path FILE = Tools.k8sDir().resolve("base/monitoring/shrivenquant-dashboard.json");

  static JsonNode dashboard() throws IOException {
    return Manifest.JSON.readTree(FILE.toFile());
  }

  static List<String> queries(JsonNode dashboard) {
    List<String> exprs = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels"))
      for (JsonNode target : panel.path("targets")) exprs.add(target.path("expr").asText());
    return exprs;
  }

  /** promtool parses every query (as recording rules, the template variable filled in). */
  static Tools.Result checkQueries(String dirName, List<String> exprs) throws IOException {
    ObjectNode group = Manifest.JSON.createObjectNode().put("name", "dashboard");
    ArrayNode rules = group.putArray("rules");
    for (int i = 0; i < exprs.size(); i++)
      rules
          .addObject()
          .put("record", "dashboard:query_" + i)
          .put("expr", exprs.get(i).replace("$namespace", "shrivenquant-region-1"));
    ObjectNode file = Manifest.JSON.createObjectNode();
    file.putArray("groups").add(group);
    Path dir = Tools.workDir(dirName);
    Files.writeString(dir.resolve("dashboard.rules.yaml"), Manifest.YAML.writeValueAsString(file));
    return AlertRulesTest.promtool(dir, "check", "rules", "dashboard.rules.yaml");
  }

  @Test
  void everyOverlayShipsTheDashboardFileAsAGrafanaConfigMap() throws IOException {
    for (String overlay : Overlays.names()) {
      JsonNode cm = Overlays.load(overlay).get("ConfigMap", "shrivenquant-grafana-dashboard");
      assertEquals(
          "1", cm.path("metadata").path("labels").path("grafana_dashboard").asText(), overlay);
      assertEquals(
          dashboard(),
          Manifest.JSON.readTree(cm.path("data").path("shrivenquant-dashboard.json").asText()),
          overlay);
    }
  }

  @Test
  void everyQueryParsesAndAPanelLayoutIsSane() throws IOException {
    JsonNode d = dashboard();
    assertEquals("shrivenquant", d.path("uid").asText());
    List<String> exprs = queries(d);
    assertTrue(exprs.size() >= 15, "queries: " + exprs.size());
    Tools.Result check = checkQueries("dashboard", exprs);
    assertEquals(0, check.exit(), check.both());
    Set<Integer> ids = new TreeSet<>();
    for (JsonNode panel : d.path("panels"))
      assertTrue(ids.add(panel.path("id").asInt()), "duplicate panel id");
  }

  @Test
  void aBrokenQueryIsCaught() throws IOException {
    List<String> exprs = new ArrayList<>(queries(dashboard()));
    exprs.add(
        "histogram_quantile(0.99, sum by (le) (rate(sq_order_ack_latency_seconds_bucket[1m]))");
    assertNotEquals(0, checkQueries("dashboard-broken", exprs).exit());
  }

  @Test
  void theDashboardShowsEveryAlertsSignalAndOnlyKnownMetrics() throws IOException {
    Map<String, String> recorded = new TreeMap<>();
    List<String> alertExprs = new ArrayList<>();
    for (ObjectNode r : AlertRulesTest.rules(AlertRulesTest.ruleSpec())) {
      if (r.has("record")) recorded.put(r.path("record").asText(), r.path("expr").asText());
      else alertExprs.add(r.path("expr").asText());
    }
    Set<String> allowed = new TreeSet<>(Metrics.NODE);
    allowed.addAll(Metrics.KAMON);
    allowed.addAll(Metrics.PROMETHEUS);
    allowed.addAll(recorded.keySet());
    Set<String> shown = new TreeSet<>();
    for (String e : queries(dashboard())) {
      for (String name : Metrics.names(e))
        assertTrue(allowed.contains(name), "unknown metric on the dashboard: " + name);
      shown.addAll(raw(e, recorded));
    }
    for (String e : alertExprs)
      for (String signal : raw(e, recorded))
        assertTrue(shown.contains(signal), "alert signal " + signal + " not on the dashboard");
    for (String m : Metrics.NODE)
      assertTrue(shown.contains(Metrics.base(m)), m + " not on the dashboard");
  }

  /**
   * The raw metrics (histogram suffixes dropped) an expression depends on, through recording rules.
   */
  static Set<String> raw(String expr, Map<String, String> recorded) {
    Set<String> out = new TreeSet<>();
    for (String name : Metrics.names(expr)) {
      if (recorded.containsKey(name)) out.addAll(raw(recorded.get(name), recorded));
      else out.add(Metrics.base(name));
    }
    return out;
  }
}
