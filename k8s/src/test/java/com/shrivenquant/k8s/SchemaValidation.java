package com.shrivenquant.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1CustomResourceDefinition;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1NetworkPolicy;
import io.kubernetes.client.openapi.models.V1PodDisruptionBudget;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strict validation of every rendered object. Built-in kinds go through the Kubernetes API models
 * of client-java-api: their {@code validateJsonElement} rejects any field the API does not define
 * and any missing required field, recursively, and Gson then binds every value to its declared
 * type. Custom resources (Prometheus Operator) get a shape check of the fields used here.
 */
final class SchemaValidation {
  private SchemaValidation() {}

  private static final Map<String, Class<?>> MODELS =
      Map.ofEntries(
          Map.entry("v1/Namespace", V1Namespace.class),
          Map.entry("v1/ServiceAccount", V1ServiceAccount.class),
          Map.entry("v1/ConfigMap", V1ConfigMap.class),
          Map.entry("v1/Secret", V1Secret.class),
          Map.entry("v1/Service", V1Service.class),
          Map.entry("apps/v1/Deployment", V1Deployment.class),
          Map.entry("apps/v1/StatefulSet", V1StatefulSet.class),
          Map.entry("policy/v1/PodDisruptionBudget", V1PodDisruptionBudget.class),
          Map.entry("networking.k8s.io/v1/NetworkPolicy", V1NetworkPolicy.class),
          Map.entry("rbac.authorization.k8s.io/v1/Role", V1Role.class),
          Map.entry("rbac.authorization.k8s.io/v1/RoleBinding", V1RoleBinding.class),
          Map.entry(
              "apiextensions.k8s.io/v1/CustomResourceDefinition",
              V1CustomResourceDefinition.class));

  static List<String> validate(Manifest m) {
    List<String> problems = new ArrayList<>();
    for (ObjectNode o : m.objects) problems.addAll(validate(o));
    return problems;
  }

  static List<String> validate(ObjectNode o) {
    String gvk = o.path("apiVersion").asText() + "/" + o.path("kind").asText();
    String id = Manifest.id(o);
    List<String> problems = new ArrayList<>();
    if (Manifest.name(o).isEmpty()) problems.add(gvk + ": no metadata.name");
    Class<?> model = MODELS.get(gvk);
    if (model != null) {
      try {
        JsonElement json = JsonParser.parseString(Manifest.JSON.writeValueAsString(o));
        Method validate = model.getMethod("validateJsonElement", JsonElement.class);
        validate.invoke(null, json);
        JSON.getGson().fromJson(json, model);
      } catch (InvocationTargetException e) {
        problems.add(id + ": " + e.getCause().getMessage());
      } catch (RuntimeException e) {
        problems.add(id + ": " + e.getMessage());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return problems;
    }
    switch (gvk) {
      case "monitoring.coreos.com/v1/PrometheusRule" -> prometheusRule(o, problems);
      case "monitoring.coreos.com/v1/ServiceMonitor" -> serviceMonitor(o, problems);
      default -> problems.add(id + ": no schema known for " + gvk);
    }
    return problems;
  }

  // --- custom resources: the fields of their CRDs that these manifests use ---

  private static final Set<String> TOP = Set.of("apiVersion", "kind", "metadata", "spec");
  private static final Set<String> META = Set.of("name", "namespace", "labels", "annotations");

  private static void prometheusRule(ObjectNode o, List<String> p) {
    String id = Manifest.id(o);
    common(o, p);
    JsonNode spec = o.path("spec");
    only(id + " spec", spec, Set.of("groups"), p);
    if (!spec.path("groups").isArray() || spec.path("groups").isEmpty())
      p.add(id + ": spec.groups must be a non-empty list");
    for (JsonNode g : spec.path("groups")) {
      only(
          id + " group",
          g,
          Set.of("name", "interval", "rules", "partial_response_strategy", "limit"),
          p);
      if (!g.path("name").isTextual()) p.add(id + ": a group without name");
      for (JsonNode r : g.path("rules")) {
        String rid = id + " rule " + r.path("alert").asText(r.path("record").asText("?"));
        only(
            rid,
            r,
            Set.of("alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"),
            p);
        if (r.has("alert") == r.has("record")) p.add(rid + ": exactly one of alert and record");
        if (!r.path("expr").isTextual() || r.path("expr").asText().isBlank())
          p.add(rid + ": no expr");
        if (r.has("record") && (r.has("for") || r.has("annotations")))
          p.add(rid + ": a recording rule has no for/annotations");
        if (r.has("for") && !r.path("for").asText().matches("\\d+(ms|s|m|h)"))
          p.add(rid + ": for is not a duration: " + r.path("for"));
        for (String map : List.of("labels", "annotations"))
          if (r.has(map)) stringMap(rid + " " + map, r.path(map), p);
      }
    }
  }

  private static void serviceMonitor(ObjectNode o, List<String> p) {
    String id = Manifest.id(o);
    common(o, p);
    JsonNode spec = o.path("spec");
    only(
        id + " spec",
        spec,
        Set.of(
            "selector",
            "endpoints",
            "namespaceSelector",
            "jobLabel",
            "podTargetLabels",
            "targetLabels"),
        p);
    labelSelector(id + " spec.selector", spec.path("selector"), p);
    if (!spec.path("endpoints").isArray() || spec.path("endpoints").isEmpty())
      p.add(id + ": spec.endpoints must be a non-empty list");
    for (JsonNode e : spec.path("endpoints")) {
      only(
          id + " endpoint",
          e,
          Set.of(
              "port",
              "targetPort",
              "path",
              "scheme",
              "interval",
              "scrapeTimeout",
              "relabelings",
              "metricRelabelings",
              "honorLabels"),
          p);
      if (!e.path("port").isTextual()) p.add(id + ": endpoint.port must name a Service port");
      for (JsonNode r : e.path("relabelings"))
        only(
            id + " relabeling",
            r,
            Set.of(
                "sourceLabels",
                "targetLabel",
                "regex",
                "replacement",
                "action",
                "separator",
                "modulus"),
            p);
    }
  }

  private static void common(ObjectNode o, List<String> p) {
    only(Manifest.id(o), o, TOP, p);
    only(Manifest.id(o) + " metadata", o.path("metadata"), META, p);
    for (String map : List.of("labels", "annotations"))
      if (o.path("metadata").has(map))
        stringMap(Manifest.id(o) + " " + map, o.path("metadata").path(map), p);
  }

  private static void labelSelector(String where, JsonNode sel, List<String> p) {
    if (!sel.isObject()) {
      p.add(where + ": missing");
      return;
    }
    only(where, sel, Set.of("matchLabels", "matchExpressions"), p);
    if (sel.has("matchLabels")) stringMap(where + ".matchLabels", sel.path("matchLabels"), p);
  }

  private static void stringMap(String where, JsonNode map, List<String> p) {
    if (!map.isObject()) {
      p.add(where + ": must be a map");
      return;
    }
    map.fields()
        .forEachRemaining(
            f -> {
              if (!f.getValue().isTextual())
                p.add(where + ": value of " + f.getKey() + " must be a string");
            });
  }

  private static void only(String where, JsonNode node, Set<String> allowed, List<String> p) {
    if (!node.isObject()) {
      p.add(where + ": must be an object");
      return;
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!allowed.contains(f)) p.add(where + ": unknown field `" + f + "`");
    }
  }
}
