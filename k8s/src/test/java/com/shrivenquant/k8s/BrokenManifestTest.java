package com.shrivenquant.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Each check shown able to fail: a deliberately broken copy of a real overlay, and the check that
 * must report it. (The real overlays pass every check: OverlaysTest.)
 */
class BrokenManifestTest {

  /**
   * A fresh copy of production/region-1, broken by {@code breakIt}, then checked by {@code check}.
   */
  private static List<String> broken(
      String overlay, Consumer<Manifest> breakIt, Function<Manifest, List<String>> check) {
    Manifest m = Overlays.load(overlay).copy();
    assertEquals(List.of(), check.apply(m), "the unbroken copy passes");
    breakIt.accept(m);
    return check.apply(m);
  }

  private static List<String> broken(
      Consumer<Manifest> breakIt, Function<Manifest, List<String>> check) {
    return broken("production/region-1", breakIt, check);
  }

  private static void reports(List<String> problems, String expected) {
    assertTrue(
        problems.stream().anyMatch(p -> p.contains(expected)),
        "expected a problem with '" + expected + "', got " + problems);
  }

  private static ObjectNode container(Manifest m) {
    return m.engineContainer();
  }

  @Test
  void unknownFieldIsRejectedByTheApiModels() {
    reports(
        broken(m -> container(m).put("livenessProbes", "typo"), SchemaValidation::validate),
        "The field `livenessProbes` in the JSON string is not defined in the `V1Container` properties");
    reports(
        broken(
            m ->
                ((ObjectNode) m.get("Service", "shrivenquant-orders").path("spec"))
                    .put("selectr", "x"),
            SchemaValidation::validate),
        "`selectr`");
    reports(
        broken(
            m ->
                ((ObjectNode) m.get("NetworkPolicy", "shrivenquant-egress").path("spec"))
                    .put("egres", "x"),
            SchemaValidation::validate),
        "`egres`");
  }

  @Test
  void wrongTypesAndMissingRequiredFieldsAreRejected() {
    reports(
        broken(
            m -> ((ObjectNode) container(m).path("ports").get(0)).put("containerPort", "eighty"),
            SchemaValidation::validate),
        "Deployment/shrivenquant");
    reports(broken(m -> container(m).remove("name"), SchemaValidation::validate), "name");
    reports(
        broken(
            m ->
                ((ObjectNode) container(m).path("resources").path("limits"))
                    .put("memory", "64 gigs"),
            SchemaValidation::validate),
        "Deployment/shrivenquant");
  }

  @Test
  void customResourcesWithUnknownFieldsOrNoSchemaAreRejected() {
    reports(
        broken(
            m ->
                ((ObjectNode)
                        m.get("PrometheusRule", "shrivenquant")
                            .path("spec")
                            .path("groups")
                            .get(1)
                            .path("rules")
                            .get(0))
                    .put("severity", "critical"),
            SchemaValidation::validate),
        "unknown field `severity`");
    reports(
        broken(
            m ->
                ((ObjectNode)
                        m.get("ServiceMonitor", "shrivenquant")
                            .path("spec")
                            .path("endpoints")
                            .get(0))
                    .put("intervall", "10s"),
            SchemaValidation::validate),
        "unknown field `intervall`");
    reports(
        broken(
            m ->
                m.get("ServiceMonitor", "shrivenquant")
                    .put("apiVersion", "monitoring.coreos.com/v2"),
            SchemaValidation::validate),
        "no schema known for monitoring.coreos.com/v2/ServiceMonitor");
  }

  @Test
  void wrongProbePortOrPathIsReported() {
    reports(
        broken(
            m ->
                ((ObjectNode) container(m).path("livenessProbe").path("httpGet"))
                    .put("port", "http"),
            Checks::probes),
        "livenessProbe port \"http\" is not the management port 8558");
    reports(
        broken(
            m ->
                ((ObjectNode) container(m).path("readinessProbe").path("httpGet"))
                    .put("port", 8559),
            Checks::probes),
        "readinessProbe port 8559");
    reports(
        broken(
            m ->
                ((ObjectNode) container(m).path("readinessProbe").path("httpGet"))
                    .put("path", "/health/alive"),
            Checks::probes),
        "readinessProbe path /health/alive is not /health/ready");
    reports(
        broken(m -> container(m).remove("startupProbe"), Checks::probes),
        "startupProbe is not an HTTP GET");
  }

  @Test
  void containerPortsThatAreNotTheNodesAreReported() {
    // The node listens on SQ_MANAGEMENT_PORT; a container port that says otherwise is caught, and
    // so
    // is the env var moving the node away from the declared port.
    reports(
        broken(
            m -> ((ObjectNode) container(m).path("ports").get(1)).put("containerPort", 8559),
            Checks::ports),
        "are not the node's ports");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_HTTP_PORT", "9000"),
            Checks::ports),
        "are not the node's ports");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_HTTP_INTERFACE", "127.0.0.1"),
            Checks::ports),
        "binds 127.0.0.1");
  }

  @Test
  void selectorMismatchesAreReported() {
    reports(
        broken(
            m ->
                ((ObjectNode) m.get("Service", "shrivenquant-orders").path("spec").path("selector"))
                    .put("app.kubernetes.io/name", "shrivenquant-engine"),
            Checks::services),
        "Service/shrivenquant-orders selector");
    reports(
        broken(
            m ->
                ((ObjectNode)
                        m.get("Service", "shrivenquant-metrics").path("spec").path("ports").get(0))
                    .put("targetPort", 9999),
            Checks::services),
        "targetPort 9999 is no container port");
    reports(
        broken(
            m ->
                ((ObjectNode)
                        m.get("ServiceMonitor", "shrivenquant")
                            .path("spec")
                            .path("selector")
                            .path("matchLabels"))
                    .put("shrivenquant.io/service", "metric"),
            Checks::services),
        "selects no Service");
    reports(
        broken(
            m ->
                ((ObjectNode)
                        m.get("PodDisruptionBudget", "shrivenquant")
                            .path("spec")
                            .path("selector")
                            .path("matchLabels"))
                    .put("app.kubernetes.io/name", "x"),
            Checks::services),
        "PodDisruptionBudget/shrivenquant selects no engine pod");
    reports(
        broken(
            m ->
                ((ObjectNode)
                        m.engine().path("spec").path("template").path("metadata").path("labels"))
                    .put("app.kubernetes.io/name", "sq"),
            Checks::discovery),
        "do not match the discovery selector");
  }

  @Test
  void missingConfigMapKeysAndUndocumentedSecretsAreReported() {
    reports(
        broken(
            m ->
                ((ObjectNode) volume(m, "config").path("configMap").path("items").get(0))
                    .put("key", "nodes.conf"),
            Checks::references),
        "key nodes.conf: the ConfigMap has no such key");
    reports(
        broken(
            m ->
                ((ObjectNode) env(m, "SQ_JDBC_URL").path("valueFrom").path("secretKeyRef"))
                    .put("key", "url"),
            Checks::references),
        "Secret shrivenquant-journal-db key url: key not documented");
    reports(
        broken(
            m ->
                ((ObjectNode) env(m, "SQ_JDBC_URL").path("valueFrom").path("secretKeyRef"))
                    .put("name", "journal"),
            Checks::references),
        "Secret journal key jdbc-url: Secret not documented");
    reports(
        broken(
            m ->
                m.objects.add(
                    Manifest.JSON
                        .createObjectNode()
                        .put("apiVersion", "v1")
                        .put("kind", "Secret")
                        .set(
                            "metadata",
                            Manifest.JSON
                                .createObjectNode()
                                .put("name", "shrivenquant-journal-db"))),
            Checks::references),
        "is committed");
  }

  @Test
  void environmentTyposAndOverlayTyposAreReported() {
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_HTTP_PROT", "8080"),
            Checks::environment),
        "SQ_HTTP_PROT is read by no");
    reports(
        broken(
            m -> {
              ObjectNode data =
                  (ObjectNode) m.generatedConfigMap("shrivenquant-hocon").path("data");
              data.put(
                  "node.conf",
                  data.path("node.conf")
                      .asText()
                      .replace("pod-label-selector", "pod-label-selektor"));
            },
            Checks::environment),
        "sets akka.discovery.kubernetes-api.pod-label-selektor, which no library or module defines");
    reports(
        broken(
            m -> {
              ObjectNode data =
                  (ObjectNode) m.generatedConfigMap("shrivenquant-hocon").path("data");
              data.put(
                  "node.conf",
                  data.path("node.conf")
                      .asText()
                      .replace("include classpath(\"application.conf\")", ""));
            },
            Checks::environment),
        "must start with include");
  }

  @Test
  void rbacBeyondOrShortOfWhatTheNodeUsesIsReported() {
    reports(
        broken(
            m ->
                ((ArrayNode) m.get("Role", "shrivenquant-node").path("rules").get(0).path("verbs"))
                    .add("delete"),
            Checks::rbac),
        "RBAC grants |pods||delete");
    reports(
        broken(
            m ->
                ((ArrayNode) m.get("Role", "shrivenquant-node").path("rules"))
                    .add(
                        Manifest.JSON
                            .createObjectNode()
                            .<ObjectNode>set("apiGroups", Manifest.JSON.createArrayNode().add(""))
                            .<ObjectNode>set(
                                "resources", Manifest.JSON.createArrayNode().add("secrets"))
                            .set("verbs", Manifest.JSON.createArrayNode().add("get"))),
            Checks::rbac),
        "RBAC grants |secrets||get");
    reports(
        broken(
            m -> ((ArrayNode) m.get("Role", "shrivenquant-node").path("rules")).remove(1),
            Checks::rbac),
        "RBAC lacks akka.io|leases||update");
    reports(
        broken(
            m ->
                ((ObjectNode) m.get("RoleBinding", "shrivenquant-node").path("subjects").get(0))
                    .put("namespace", "shrivenquant"),
            Checks::rbac),
        "of namespace 'shrivenquant'");
  }

  @Test
  void productionRequestsMustEqualLimits() {
    reports(
        broken(
            m -> ((ObjectNode) container(m).path("resources").path("requests")).put("cpu", "8"),
            Checks::resources),
        "production cpu request 8 != limit 16");
    reports(
        broken(
            m -> {
              ((ObjectNode) container(m).path("resources").path("requests")).put("memory", "32Gi");
              ((ObjectNode) container(m).path("resources").path("limits")).put("memory", "32Gi");
            },
            Checks::resources),
        "the seed gives it 64Gi");
  }

  @Test
  void networkPoliciesOpeningTooMuchOrTooLittleAreReported() {
    reports(
        broken(
            m ->
                ((ArrayNode)
                        m.get("NetworkPolicy", "shrivenquant-orders-ingress")
                            .path("spec")
                            .path("ingress")
                            .get(0)
                            .path("ports"))
                    .add(Manifest.JSON.createObjectNode().put("port", 22)),
            Checks::networkPolicies),
        "ingress allowed on ports [22, 8080, 8558, 9095, 25520]");
    reports(
        broken(
            m -> m.objects.remove(m.get("NetworkPolicy", "shrivenquant-metrics-ingress")),
            Checks::networkPolicies),
        "the node uses [8080, 8558, 9095, 25520]");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_KAFKA_BOOTSTRAP", "kafka:9093"),
            Checks::networkPolicies),
        "egress to port 9093");
    reports(
        broken(
            m -> m.objects.remove(m.get("NetworkPolicy", "shrivenquant-default-deny")),
            Checks::networkPolicies),
        "no default-deny");
    reports(
        broken(
            m ->
                ((ObjectNode)
                        m.get("NetworkPolicy", "shrivenquant-orders-ingress")
                            .path("spec")
                            .path("ingress")
                            .get(0))
                    .remove("ports"),
            Checks::networkPolicies),
        "allows every port");
  }

  @Test
  void availabilityWeaknessesAreReported() {
    reports(
        broken(
            m ->
                ((ObjectNode)
                        m.engine()
                            .path("spec")
                            .path("template")
                            .path("spec")
                            .path("affinity")
                            .path("podAntiAffinity"))
                    .remove("requiredDuringSchedulingIgnoredDuringExecution"),
            Checks::availability),
        "production must require one engine node per zone");
    reports(
        broken(
            m ->
                ((ObjectNode) m.get("PodDisruptionBudget", "shrivenquant").path("spec"))
                    .put("maxUnavailable", 2),
            Checks::availability),
        "lets the cluster lose its majority");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_REQUIRED_CONTACT_POINTS", "1"),
            Checks::discovery),
        "required-contact-point-nr 1 with 3 replicas");
  }

  @Test
  void leaseMajorityWithoutTheLeaseLibraryIsReported() {
    // Holds until cluster/pom.xml ships akka-lease-kubernetes; then the k8s overlays can switch.
    if (Checks.clusterPomHas("akka-lease-kubernetes")) return;
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_SBR_STRATEGY", "lease-majority"),
            Checks::discovery),
        "needs akka-lease-kubernetes");
  }

  @Test
  void operatorTokensMountMistakesAreReported() {
    reports(
        broken(
            m ->
                ((ObjectNode) mount(m, "operator-tokens"))
                    .put("mountPath", "/etc/shrivenquant/tokens"),
            Checks::operatorTokens),
        "is not the key tokens of the Secret shrivenquant-operator-tokens");
    reports(
        broken(
            m -> ((ObjectNode) mount(m, "operator-tokens")).put("subPath", "tokens"),
            Checks::operatorTokens),
        "mounted with a subPath");
    reports(
        broken(
            m ->
                ((ObjectNode) volume(m, "operator-tokens").path("secret").path("items").get(0))
                    .put("key", "token"),
            Checks::operatorTokens),
        "is not the key tokens");
  }

  private static JsonNode volume(Manifest m, String name) {
    for (JsonNode v : m.engine().path("spec").path("template").path("spec").path("volumes"))
      if (v.path("name").asText().equals(name)) return v;
    throw new AssertionError("no volume " + name);
  }

  private static JsonNode mount(Manifest m, String name) {
    for (JsonNode mount : container(m).path("volumeMounts"))
      if (mount.path("name").asText().equals(name)) return mount;
    throw new AssertionError("no volume mount " + name);
  }

  @Test
  void routingMistakesAreReported() {
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_ORDER_API_URL", "http://orders.region-2.shrivenquant.example:8080"),
            Checks::routing),
        "is not this region's order Service");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_PEER_HEALTH_URLS", "https://management.region-1.shrivenquant.example"),
            Checks::routing),
        "does not name the peer region region-2");
    for (String missing :
        List.of("SQ_ROUTING_DNS_NAME", "SQ_ROUTING_DNS_ZONE", "SQ_ROUTING_DNS_SERVER"))
      reports(
          broken(
              m ->
                  ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                      .remove(missing),
              Checks::routing),
          "routing kind dns without " + missing);
    reports(
        broken(m -> removeEnv(m, "SQ_ROUTING_DNS_TSIG_SECRET"), Checks::routing),
        "routing kind dns without SQ_ROUTING_DNS_TSIG_SECRET from a Secret");
    reports(
        broken(m -> removeEnv(m, "SQ_ROUTING_DNS_TSIG_KEY_NAME"), Checks::routing),
        "routing kind dns without SQ_ROUTING_DNS_TSIG_KEY_NAME");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_ROUTING_DNS_TSIG_SECRET", "c2VjcmV0"),
            Checks::routing),
        "carries SQ_ROUTING_DNS_TSIG_SECRET: it belongs in a Secret");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_ROUTING_DNS_NAME", "orders.shrivenquant.example"),
            Checks::routing),
        "is not fully qualified");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_ROUTING_DNS_NAME", "orders.staging.example."),
            Checks::routing),
        "is not in the zone shrivenquant.example.");
  }

  private static JsonNode env(Manifest m, String name) {
    for (JsonNode e : container(m).path("env")) if (e.path("name").asText().equals(name)) return e;
    throw new AssertionError("no env " + name);
  }

  private static void removeEnv(Manifest m, String name) {
    ArrayNode env = (ArrayNode) container(m).path("env");
    for (int i = 0; i < env.size(); i++)
      if (env.get(i).path("name").asText().equals(name)) {
        env.remove(i);
        return;
      }
    throw new AssertionError("no env " + name);
  }

  /** A DNS record in the manifests, in any form, is reported: every apply would move clients. */
  @Test
  void aManifestSettingTheClientFacingRecordIsReported() {
    reports(
        broken(
            m ->
                m.objects.add(
                    (ObjectNode)
                        yaml(
                            """
                            apiVersion: externaldns.k8s.io/v1alpha1
                            kind: DNSEndpoint
                            metadata:
                              name: shrivenquant-order-api
                              namespace: shrivenquant-region-1
                            spec:
                              endpoints:
                              - dnsName: orders.example.org
                                recordType: CNAME
                                targets: [orders.region-1.example.org]
                            """)),
            Checks::clientName),
        "DNSEndpoint/shrivenquant-order-api: a DNS record in the manifests");
    reports(
        broken(
            m ->
                ((ObjectNode)
                        m.get("Service", "shrivenquant-orders")
                            .path("metadata")
                            .path("annotations"))
                    .put(
                        "external-dns.alpha.kubernetes.io/hostname",
                        "orders.region-1.shrivenquant.example,orders.shrivenquant.example"),
            Checks::clientName),
        "has external-dns publish orders.shrivenquant.example, which does not name this region");
    reports(
        broken(
            m ->
                ((ObjectNode)
                        m.get("Service", "shrivenquant-orders")
                            .path("metadata")
                            .path("annotations"))
                    .put("external-dns.alpha.kubernetes.io/target", "Orders.Shrivenquant.Example."),
            Checks::clientName),
        "/metadata/annotations/external-dns.alpha.kubernetes.io/target names the client-facing name"
            + " orders.shrivenquant.example");
    // Another name that merely contains the client-facing one is not it.
    assertEquals(
        List.of(),
        Checks.clientName(
            mutated(
                m ->
                    ((ObjectNode)
                            m.get("Service", "shrivenquant-orders")
                                .path("metadata")
                                .path("annotations"))
                        .put(
                            "note",
                            "orders.shrivenquant.example.com api.orders.shrivenquant.example"))));
  }

  /** Environments sharing a client-facing name or witness keys, or regions disagreeing. */
  @Test
  void environmentsSharingTheirRecordOrWitnessKeysAreReported() {
    List<Manifest> all = Overlays.names().stream().map(o -> Overlays.load(o).copy()).toList();
    assertEquals(List.of(), Checks.acrossEnvironments(all), "the unbroken copies pass");
    for (Manifest m : all)
      if (m.environment().equals("staging"))
        ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
            .put("SQ_ROUTING_DNS_NAME", "ORDERS.shrivenquant.example")
            .put("SQ_WITNESS_ETCD_PREFIX", "/shrivenquant/production/");
    List<String> problems = Checks.acrossEnvironments(all);
    reports(
        problems,
        "staging and production share the client-facing name orders.shrivenquant.example");
    reports(problems, "staging and production share witness keys");
    List<Manifest> fresh = Overlays.names().stream().map(o -> Overlays.load(o).copy()).toList();
    ((ObjectNode) fresh.get(5).generatedConfigMap("shrivenquant-env").path("data"))
        .put("SQ_WITNESS_ETCD_PREFIX", "/shrivenquant/production/primacy-2/");
    reports(
        Checks.acrossEnvironments(fresh),
        "production: its regions disagree on SQ_WITNESS_ETCD_PREFIX");
    ((ObjectNode) fresh.get(0).generatedConfigMap("shrivenquant-env").path("data"))
        .remove("SQ_ROUTING_DNS_NAME");
    ((ObjectNode) fresh.get(1).generatedConfigMap("shrivenquant-env").path("data"))
        .remove("SQ_ROUTING_DNS_NAME");
    reports(Checks.acrossEnvironments(fresh), "dev: names no client-facing record");
  }

  @Test
  void anIncompleteWitnessIsReported() {
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put(
                        "SQ_WITNESS_ETCD_ENDPOINTS",
                        "https://etcd.region-1.shrivenquant.example:2379,https://etcd.region-2.shrivenquant.example:2379"),
            Checks::witness),
        "names 2 members: the witness needs an odd number, at least three");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put(
                        "SQ_WITNESS_ETCD_ENDPOINTS",
                        "https://a.example:2379,https://a.example:2379,https://b.example:2379"),
            Checks::witness),
        "names one host twice");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .remove("SQ_WITNESS_ETCD_PREFIX"),
            Checks::witness),
        "no SQ_WITNESS_ETCD_PREFIX");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_WITNESS_KIND", "etc"),
            Checks::witness),
        "SQ_WITNESS_KIND is 'etc', not etcd or jdbc");
    reports(
        broken("dev/region-1", m -> removeEnv(m, "SQ_WITNESS_JDBC_URL"), Checks::witness),
        "witness kind jdbc without SQ_WITNESS_JDBC_URL from a Secret");
  }

  @Test
  void egressToTheDnsServerOrEtcdMissingIsReported() {
    reports(
        broken(
            m -> m.objects.remove(m.get("NetworkPolicy", "shrivenquant-egress-dns-update")),
            Checks::networkPolicies),
        "egress to port 53/UDP");
    reports(
        broken(
            m ->
                ((ObjectNode) m.generatedConfigMap("shrivenquant-env").path("data"))
                    .put("SQ_ROUTING_DNS_SERVER", "dns-primary.shrivenquant.example:5353"),
            Checks::networkPolicies),
        "egress to port 5353/TCP");
    reports(
        broken(
            m -> m.objects.remove(m.get("NetworkPolicy", "shrivenquant-egress-witness-etcd")),
            Checks::networkPolicies),
        "egress to port 2379/TCP");
  }

  private static Manifest mutated(Consumer<Manifest> change) {
    Manifest m = Overlays.load("production/region-1").copy();
    change.accept(m);
    return m;
  }

  private static JsonNode yaml(String text) {
    try {
      return Manifest.YAML.readTree(text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * The whole pipeline on a broken copy of the k8s tree on disk: a patch in a copied production
   * overlay that moves the liveness probe to the order API port and misspells a field. kubectl
   * renders it; strict validation and the probe check reject it.
   */
  @Test
  void aBrokenCopyOfAnOverlayOnDiskFails() throws IOException {
    Path copy = Tools.workDir("broken-copy").resolve("k8s");
    copyTree(Tools.k8sDir(), copy);
    Path overlay = copy.resolve("overlays/production/region-1");
    Files.writeString(
        overlay.resolve("broken.yaml"),
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: shrivenquant
        spec:
          template:
            spec:
              containers:
              - name: node
                livenessProbe:
                  httpGet:
                    port: 8080
                readinessProbe:
                  initialDelaySecond: 5
        """);
    Files.writeString(
        overlay.resolve("kustomization.yaml"),
        Files.readString(overlay.resolve("kustomization.yaml")) + "- path: broken.yaml\n");
    Manifest m = Manifest.load("production/region-1", overlay);
    reports(
        SchemaValidation.validate(m),
        "The field `initialDelaySecond` in the JSON string is not defined in the `V1Probe` properties");
    reports(Checks.probes(m), "livenessProbe port 8080 is not the management port 8558");
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f :
          files
              .filter(
                  f -> !f.startsWith(from.resolve("target")) && !f.startsWith(from.resolve("src")))
              .toList()) {
        Path dest = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) Files.createDirectories(dest);
        else Files.copy(f, dest, StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }
}
