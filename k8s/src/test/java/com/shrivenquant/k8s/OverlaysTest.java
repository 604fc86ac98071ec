package com.shrivenquant.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every real overlay renders, validates strictly and passes every cross-check. */
class OverlaysTest {

  static List<String> overlays() {
    return Overlays.names();
  }

  @Test
  void theOverlayTreeIsExactlyEnvironmentsTimesRegions() throws IOException {
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.walk(Tools.k8sDir().resolve("overlays"))) {
      files
          .filter(f -> f.getFileName().toString().equals("kustomization.yaml"))
          .forEach(
              f ->
                  found.add(
                      Tools.k8sDir().resolve("overlays").relativize(f.getParent()).toString()));
    }
    assertEquals(new TreeSet<>(Overlays.names()), new TreeSet<>(found));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("overlays")
  void rendersValidatesAndPassesEveryCheck(String overlay) {
    Manifest m = Overlays.load(overlay);
    assertFalse(m.objects.isEmpty(), overlay + " rendered nothing");
    List<String> problems = new ArrayList<>();
    Checks.all(m)
        .forEach((check, found) -> found.forEach(p -> problems.add("[" + check + "] " + p)));
    assertEquals(List.of(), problems, overlay + ": " + String.join("\n", problems));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("overlays")
  void everyKindTheIssueAsksForIsThere(String overlay) {
    Manifest m = Overlays.load(overlay);
    for (String kind :
        List.of(
            "Namespace",
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "Deployment",
            "PodDisruptionBudget",
            "Service",
            "NetworkPolicy",
            "ConfigMap",
            "PrometheusRule",
            "ServiceMonitor")) assertFalse(m.kind(kind).isEmpty(), overlay + " has no " + kind);
    assertEquals(3, m.kind("Service").size(), "order API, management and metrics Services");
    assertTrue(m.find("ConfigMap", "shrivenquant-grafana-dashboard").isPresent());
    String ns = "shrivenquant-" + overlay.split("/")[1];
    for (var o : m.objects)
      if (!o.path("kind").asText().equals("Namespace"))
        assertEquals(
            ns, o.path("metadata").path("namespace").asText(), Manifest.id(o) + " namespace");
    assertEquals(ns, Manifest.name(m.kind("Namespace").get(0)));
  }

  /** The documented operator-supplied Secret keys are exactly the referenced ones. */
  @Test
  void everyDocumentedSecretKeyIsUsed() {
    Set<String> used = new TreeSet<>();
    for (String overlay : Overlays.names())
      for (Checks.Ref ref : Checks.refs(new Pod(Overlays.load(overlay)).podSpec))
        if (ref.kind().equals("Secret") && ref.key() != null)
          used.add(ref.name() + "/" + ref.key());
    Set<String> documented = new TreeSet<>();
    for (Map.Entry<String, Set<String>> e : OperatorSupplied.secrets().entrySet())
      e.getValue().forEach(k -> documented.add(e.getKey() + "/" + k));
    assertEquals(documented, used);
  }

  /** The cluster-scoped prerequisites render and validate, and define what the Role grants on. */
  @Test
  void clusterPrerequisitesValidate() {
    Manifest m = Manifest.load("cluster", Tools.k8sDir().resolve("cluster"));
    assertEquals(List.of(), SchemaValidation.validate(m));
    JsonNode crd = m.get("CustomResourceDefinition", "leases.akka.io").path("spec");
    assertEquals("akka.io", crd.path("group").asText());
    assertEquals("leases", crd.path("names").path("plural").asText());
    assertEquals("Lease", crd.path("names").path("kind").asText());
    assertEquals("Namespaced", crd.path("scope").asText());
    Manifest production = Overlays.load("production/region-1");
    assertTrue(Checks.requiredRbac(production).contains("akka.io|leases||update"));
  }
}
