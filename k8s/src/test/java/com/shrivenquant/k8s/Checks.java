package com.shrivenquant.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import io.kubernetes.client.custom.Quantity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The checks a reviewer would do by hand, each returning the problems it finds (empty: passed). The
 * node's facts (ports, health paths, discovery, routing) are read from its configuration as the pod
 * would load it ({@link Pod#config()}), never repeated here.
 */
final class Checks {
  private Checks() {}

  static final String K8S_DISCOVERY = "kubernetes-api";
  static final String K8S_LEASE = "akka.coordination.lease.kubernetes";

  /** Every check, by name, for the overlay tests. */
  static Map<String, List<String>> all(Manifest m) {
    Map<String, List<String>> all = new LinkedHashMap<>();
    all.put("schema", SchemaValidation.validate(m));
    all.put("ports", ports(m));
    all.put("probes", probes(m));
    all.put("discovery", discovery(m));
    all.put("services", services(m));
    all.put("references", references(m));
    all.put("environment", environment(m));
    all.put("rbac", rbac(m));
    all.put("resources", resources(m));
    all.put("networkPolicies", networkPolicies(m));
    all.put("availability", availability(m));
    all.put("routing", routing(m));
    all.put("clientName", clientName(m));
    all.put("witness", witness(m));
    all.put("operatorTokens", operatorTokens(m));
    return all;
  }

  // --- ports the node listens on -------------------------------------------------------------

  static Map<String, Integer> nodePorts(Config c) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    ports.put("http", c.getInt("shrivenquant.node.http.port"));
    ports.put("management", c.getInt("akka.management.http.port"));
    ports.put("remoting", c.getInt("akka.remote.artery.canonical.port"));
    // Kamon's Prometheus reporter (cluster/.../telemetry).
    ports.put("metrics", c.getInt("kamon.prometheus.embedded-server.port"));
    return ports;
  }

  /** Container ports are exactly the ports the node's configuration listens on, each named. */
  static List<String> ports(Manifest m) {
    List<String> p = new ArrayList<>();
    Pod pod = new Pod(m);
    Config c = pod.config();
    Map<String, Integer> expected = nodePorts(c);
    Map<String, Integer> actual = new LinkedHashMap<>();
    for (JsonNode port : pod.container.path("ports"))
      actual.put(port.path("name").asText(), port.path("containerPort").asInt());
    if (!actual.equals(expected))
      p.add(m.name + ": container ports " + actual + " are not the node's ports " + expected);
    if (!c.getString("shrivenquant.node.http.interface").equals("0.0.0.0"))
      p.add(
          m.name
              + ": the order API binds "
              + c.getString("shrivenquant.node.http.interface")
              + ", not every interface: the Service cannot reach it");
    for (String host :
        List.of("akka.remote.artery.canonical.hostname", "akka.management.http.hostname"))
      if (!c.getString(host).equals(Pod.POD_IP))
        p.add(
            m.name + ": " + host + " is " + c.getString(host) + ", not the pod IP (status.podIP)");
    return p;
  }

  /** Probes use Akka Management's port and its liveness / readiness paths. */
  static List<String> probes(Manifest m) {
    List<String> p = new ArrayList<>();
    Pod pod = new Pod(m);
    Config c = pod.config();
    int management = c.getInt("akka.management.http.port");
    String alive = "/" + c.getString("akka.management.health-checks.liveness-path");
    String ready = "/" + c.getString("akka.management.health-checks.readiness-path");
    Map<String, String> want =
        Map.of("livenessProbe", alive, "startupProbe", alive, "readinessProbe", ready);
    for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
      JsonNode get = pod.container.path(probe).path("httpGet");
      if (get.isMissingNode()) {
        p.add(m.name + ": " + probe + " is not an HTTP GET on Akka Management");
        continue;
      }
      Optional<Integer> port = pod.containerPort(get.path("port"));
      if (port.isEmpty() || port.get() != management)
        p.add(
            m.name
                + ": "
                + probe
                + " port "
                + get.path("port")
                + " is not the management port "
                + management);
      if (!get.path("path").asText().equals(want.get(probe)))
        p.add(
            m.name
                + ": "
                + probe
                + " path "
                + get.path("path").asText()
                + " is not "
                + want.get(probe));
    }
    return p;
  }

  /** Kubernetes API discovery finds these pods, on the right port, with a safe quorum. */
  static List<String> discovery(Manifest m) {
    List<String> p = new ArrayList<>();
    Pod pod = new Pod(m);
    Config c = pod.config();
    String bootstrap = "akka.management.cluster.bootstrap.contact-point-discovery.";
    String method = c.getString(bootstrap + "discovery-method");
    if (!method.equals(K8S_DISCOVERY))
      p.add(m.name + ": discovery-method is " + method + ", not " + K8S_DISCOVERY);
    String service = c.getString(bootstrap + "service-name");
    String selector =
        c.getString("akka.discovery.kubernetes-api.pod-label-selector").replace("%s", service);
    for (String term : selector.split(",")) {
      String[] kv = term.trim().split("=", 2);
      if (kv.length != 2 || !pod.templateLabels().path(kv[0]).asText().equals(kv[1]))
        p.add(m.name + ": pod template labels do not match the discovery selector " + selector);
    }
    String portName = c.getString(bootstrap + "port-name");
    if (!pod.namedPort(portName).equals(Optional.of(c.getInt("akka.management.http.port"))))
      p.add(
          m.name
              + ": bootstrap port-name '"
              + portName
              + "' does not name the management container port");
    int required = c.getInt(bootstrap + "required-contact-point-nr");
    int replicas = pod.replicas();
    if (required > replicas || required <= replicas / 2)
      p.add(
          m.name
              + ": required-contact-point-nr "
              + required
              + " with "
              + replicas
              + " replicas (must be a majority, at most all): the cluster would never form or could form twice");
    String strategy = c.getString("akka.cluster.split-brain-resolver.active-strategy");
    if (strategy.equals("lease-majority")) {
      String impl =
          c.getString("akka.cluster.split-brain-resolver.lease-majority.lease-implementation");
      if (!impl.equals(K8S_LEASE))
        p.add(
            m.name + ": lease-majority with lease-implementation '" + impl + "', not " + K8S_LEASE);
      if (!clusterPomHas("akka-lease-kubernetes"))
        p.add(
            m.name
                + ": SBR lease-majority needs akka-lease-kubernetes on the node's class path (cluster/pom.xml)");
    }
    return p;
  }

  static boolean clusterPomHas(String artifact) {
    try {
      return Files.readString(Tools.repoDir().resolve("cluster/pom.xml"))
          .contains("<artifactId>" + artifact);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // --- services, selectors --------------------------------------------------------------------

  static List<String> services(Manifest m) {
    List<String> p = new ArrayList<>();
    Pod pod = new Pod(m);
    ObjectNode engine = m.engine();
    if (!matches(engine.path("spec").path("selector"), pod.templateLabels()))
      p.add(m.name + ": Deployment selector does not match its pod template labels");
    for (ObjectNode svc : m.kind("Service")) {
      JsonNode sel = svc.path("spec").path("selector");
      if (sel.isEmpty() || !matchLabels(sel, pod.templateLabels()))
        p.add(m.name + ": " + Manifest.id(svc) + " selector " + sel + " selects no engine pod");
      for (JsonNode port : svc.path("spec").path("ports")) {
        JsonNode target = port.has("targetPort") ? port.path("targetPort") : port.path("port");
        if (pod.containerPort(target).isEmpty())
          p.add(
              m.name + ": " + Manifest.id(svc) + " targetPort " + target + " is no container port");
      }
    }
    Config c = pod.config();
    for (ObjectNode sm : m.kind("ServiceMonitor")) {
      List<ObjectNode> selected =
          m.kind("Service").stream()
              .filter(
                  s -> matches(sm.path("spec").path("selector"), s.path("metadata").path("labels")))
              .toList();
      if (selected.isEmpty()) p.add(m.name + ": " + Manifest.id(sm) + " selects no Service");
      for (JsonNode ep : sm.path("spec").path("endpoints")) {
        for (ObjectNode svc : selected) {
          JsonNode svcPort = null;
          for (JsonNode sp : svc.path("spec").path("ports"))
            if (sp.path("name").asText().equals(ep.path("port").asText())) svcPort = sp;
          if (svcPort == null) {
            p.add(
                m.name
                    + ": "
                    + Manifest.id(sm)
                    + " port "
                    + ep.path("port")
                    + " is not a port of "
                    + Manifest.id(svc));
            continue;
          }
          Optional<Integer> target = pod.containerPort(svcPort.path("targetPort"));
          if (!target.equals(Optional.of(c.getInt("kamon.prometheus.embedded-server.port"))))
            p.add(
                m.name
                    + ": "
                    + Manifest.id(sm)
                    + " scrapes port "
                    + target.orElse(-1)
                    + ", not Kamon's Prometheus port");
        }
        String path = c.getString("kamon.prometheus.embedded-server.metrics-path");
        if (!ep.path("path").asText("/metrics").equals(path))
          p.add(
              m.name
                  + ": "
                  + Manifest.id(sm)
                  + " path "
                  + ep.path("path").asText()
                  + " is not Kamon's "
                  + path);
      }
    }
    for (ObjectNode pdb : m.kind("PodDisruptionBudget"))
      if (!matches(pdb.path("spec").path("selector"), pod.templateLabels()))
        p.add(m.name + ": " + Manifest.id(pdb) + " selects no engine pod");
    return p;
  }

  // --- ConfigMap and Secret references --------------------------------------------------------

  static List<String> references(Manifest m) {
    List<String> p = new ArrayList<>();
    Map<String, Set<String>> documented = OperatorSupplied.secrets();
    for (ObjectNode s : m.kind("Secret"))
      p.add(
          m.name
              + ": "
              + Manifest.id(s)
              + " is committed: Secrets are operator-supplied (k8s/operator-supplied.yaml)");
    Pod pod = new Pod(m);
    for (Ref ref : refs(pod.podSpec)) {
      if (ref.kind.equals("ConfigMap")) {
        Optional<ObjectNode> cm = m.find("ConfigMap", ref.name);
        if (cm.isEmpty()) {
          if (!ref.optional) p.add(m.name + ": " + ref + ": no such ConfigMap");
        } else if (ref.key != null && !cm.get().path("data").has(ref.key) && !ref.optional) {
          p.add(m.name + ": " + ref + ": the ConfigMap has no such key");
        }
      } else {
        Set<String> keys = documented.get(ref.name);
        if (keys == null)
          p.add(m.name + ": " + ref + ": Secret not documented as operator-supplied");
        else if (ref.key != null && !keys.contains(ref.key))
          p.add(m.name + ": " + ref + ": key not documented as operator-supplied");
      }
    }
    String sa = pod.podSpec.path("serviceAccountName").asText();
    if (m.find("ServiceAccount", sa).isEmpty())
      p.add(m.name + ": serviceAccountName " + sa + " does not exist");
    return p;
  }

  record Ref(String kind, String name, String key, boolean optional) {
    @Override
    public String toString() {
      return kind + " " + name + (key == null ? "" : " key " + key);
    }
  }

  static List<Ref> refs(JsonNode podSpec) {
    List<Ref> refs = new ArrayList<>();
    List<JsonNode> containers = new ArrayList<>();
    podSpec.path("containers").forEach(containers::add);
    podSpec.path("initContainers").forEach(containers::add);
    for (JsonNode c : containers) {
      for (JsonNode from : c.path("envFrom")) {
        if (from.has("configMapRef"))
          refs.add(
              new Ref(
                  "ConfigMap",
                  from.path("configMapRef").path("name").asText(),
                  null,
                  from.path("configMapRef").path("optional").asBoolean()));
        if (from.has("secretRef"))
          refs.add(
              new Ref(
                  "Secret",
                  from.path("secretRef").path("name").asText(),
                  null,
                  from.path("secretRef").path("optional").asBoolean()));
      }
      for (JsonNode e : c.path("env")) {
        JsonNode cm = e.path("valueFrom").path("configMapKeyRef");
        JsonNode s = e.path("valueFrom").path("secretKeyRef");
        if (!cm.isMissingNode())
          refs.add(
              new Ref(
                  "ConfigMap",
                  cm.path("name").asText(),
                  cm.path("key").asText(),
                  cm.path("optional").asBoolean()));
        if (!s.isMissingNode())
          refs.add(
              new Ref(
                  "Secret",
                  s.path("name").asText(),
                  s.path("key").asText(),
                  s.path("optional").asBoolean()));
      }
    }
    for (JsonNode v : podSpec.path("volumes")) {
      JsonNode cm = v.path("configMap");
      JsonNode s = v.path("secret");
      if (!cm.isMissingNode()) {
        refs.add(
            new Ref("ConfigMap", cm.path("name").asText(), null, cm.path("optional").asBoolean()));
        for (JsonNode item : cm.path("items"))
          refs.add(
              new Ref(
                  "ConfigMap",
                  cm.path("name").asText(),
                  item.path("key").asText(),
                  cm.path("optional").asBoolean()));
      }
      if (!s.isMissingNode()) {
        refs.add(
            new Ref("Secret", s.path("secretName").asText(), null, s.path("optional").asBoolean()));
        for (JsonNode item : s.path("items"))
          refs.add(
              new Ref(
                  "Secret",
                  s.path("secretName").asText(),
                  item.path("key").asText(),
                  s.path("optional").asBoolean()));
      }
    }
    return refs;
  }

  // --- environment and HOCON overlay ----------------------------------------------------------

  static List<String> environment(Manifest m) {
    List<String> p = new ArrayList<>();
    Pod pod = new Pod(m);
    Set<String> known = new TreeSet<>(NodeConfig.knownEnvironmentVariables());
    for (String name : pod.environment().keySet()) {
      if (name.equals("JDK_JAVA_OPTIONS")) continue;
      if (!known.contains(name))
        p.add(
            m.name
                + ": environment variable "
                + name
                + " is read by no ${?"
                + name
                + "} in the node's configuration");
    }
    Optional<String> file = pod.configFile();
    Optional<String> overlay = pod.overlay();
    if (file.isEmpty())
      p.add(m.name + ": JDK_JAVA_OPTIONS selects no -Dconfig.file: the HOCON overlay is not used");
    else if (overlay.isEmpty())
      p.add(m.name + ": nothing from a ConfigMap is mounted at " + file.get());
    if (overlay.isPresent()) {
      String firstStatement =
          overlay
              .get()
              .lines()
              .map(String::strip)
              .filter(l -> !l.isEmpty() && !l.startsWith("#") && !l.startsWith("//"))
              .findFirst()
              .orElse("");
      if (!firstStatement.equals("include classpath(\"application.conf\")"))
        p.add(
            m.name
                + ": the HOCON overlay must start with include classpath(\"application.conf\"): -Dconfig.file replaces it");
      for (String path : NodeConfig.unknownOverlayPaths(overlay.get()))
        p.add(m.name + ": the HOCON overlay sets " + path + ", which no library or module defines");
    }
    return p;
  }

  // --- RBAC -----------------------------------------------------------------------------------

  /** The rules the node needs, derived from its configuration, as apiGroup|resource|names|verb. */
  static Set<String> requiredRbac(Manifest m) {
    Config c = new Pod(m).config();
    Set<String> need = new TreeSet<>();
    if (c.getString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method")
        .equals(K8S_DISCOVERY))
      for (String verb : List.of("get", "watch", "list")) need.add("|pods||" + verb);
    // akka-lease-kubernetes 1.1.4: custom resource leases.akka.io (GET, POST, PUT)
    if (c.getString("akka.cluster.split-brain-resolver.lease-majority.lease-implementation")
        .equals(K8S_LEASE))
      for (String verb : List.of("get", "create", "update")) need.add("akka.io|leases||" + verb);
    // Routing kind dns updates the authoritative DNS server (RFC 2136), never the Kubernetes API;
    // the etcd witness is no Kubernetes object either: no API rights needed for them.
    return need;
  }

  static List<String> rbac(Manifest m) {
    List<String> p = new ArrayList<>();
    for (String kind : List.of("ClusterRole", "ClusterRoleBinding"))
      for (ObjectNode o : m.kind(kind))
        p.add(m.name + ": " + Manifest.id(o) + ": the node needs no cluster-wide rights");
    String sa = new Pod(m).podSpec.path("serviceAccountName").asText();
    String namespace =
        m.find("ServiceAccount", sa)
            .map(o -> o.path("metadata").path("namespace").asText())
            .orElse("?");
    Set<String> granted = new TreeSet<>();
    for (ObjectNode binding : m.kind("RoleBinding")) {
      boolean toNode = false;
      for (JsonNode s : binding.path("subjects"))
        if (s.path("kind").asText().equals("ServiceAccount")
            && s.path("name").asText().equals(sa)) {
          toNode = true;
          if (!s.path("namespace").asText().equals(namespace))
            p.add(
                m.name
                    + ": "
                    + Manifest.id(binding)
                    + " binds ServiceAccount "
                    + sa
                    + " of namespace '"
                    + s.path("namespace").asText()
                    + "', the node runs in '"
                    + namespace
                    + "'");
        }
      if (!toNode) continue;
      Optional<ObjectNode> role = m.find("Role", binding.path("roleRef").path("name").asText());
      if (!binding.path("roleRef").path("kind").asText().equals("Role") || role.isEmpty()) {
        p.add(m.name + ": " + Manifest.id(binding) + " refers to no Role of this overlay");
        continue;
      }
      for (JsonNode rule : role.get().path("rules")) {
        List<String> names = new ArrayList<>();
        rule.path("resourceNames").forEach(n -> names.add(n.asText()));
        for (JsonNode g : rule.path("apiGroups"))
          for (JsonNode r : rule.path("resources"))
            for (JsonNode v : rule.path("verbs"))
              granted.add(
                  g.asText() + "|" + r.asText() + "|" + String.join(",", names) + "|" + v.asText());
        if (rule.has("nonResourceURLs")) p.add(m.name + ": non-resource URLs granted");
      }
    }
    Set<String> need = requiredRbac(m);
    for (String g : granted)
      if (!need.contains(g)) p.add(m.name + ": RBAC grants " + g + ", which the node does not use");
    for (String n : need)
      if (!granted.contains(n)) p.add(m.name + ": RBAC lacks " + n + ", which the node needs");
    return p;
  }

  // --- resources ------------------------------------------------------------------------------

  static List<String> resources(Manifest m) {
    List<String> p = new ArrayList<>();
    JsonNode res = new Pod(m).container.path("resources");
    for (String r : List.of("cpu", "memory")) {
      JsonNode req = res.path("requests").path(r);
      JsonNode lim = res.path("limits").path(r);
      if (req.isMissingNode() || lim.isMissingNode()) {
        p.add(m.name + ": " + r + " request and limit must both be set");
        continue;
      }
      int cmp =
          new Quantity(req.asText()).getNumber().compareTo(new Quantity(lim.asText()).getNumber());
      if (cmp > 0) p.add(m.name + ": " + r + " request above its limit");
      if (m.environment().equals("production") && cmp != 0)
        p.add(
            m.name
                + ": production "
                + r
                + " request "
                + req.asText()
                + " != limit "
                + lim.asText()
                + " (Guaranteed QoS, dedicated cores)");
    }
    if (m.environment().equals("production")) {
      String cpu = res.path("limits").path("cpu").asText();
      String mem = res.path("limits").path("memory").asText();
      if (new Quantity(cpu).getNumber().compareTo(new Quantity("16").getNumber()) != 0)
        p.add(m.name + ": production engine has " + cpu + " cores, the seed gives it 16");
      if (new Quantity(mem).getNumber().compareTo(new Quantity("64Gi").getNumber()) != 0)
        p.add(m.name + ": production engine has " + mem + " memory, the seed gives it 64Gi");
    }
    return p;
  }

  // --- network policies -----------------------------------------------------------------------

  static List<String> networkPolicies(Manifest m) {
    List<String> p = new ArrayList<>();
    Pod pod = new Pod(m);
    Config c = pod.config();
    boolean defaultDeny = false;
    Set<Integer> ingress = new TreeSet<>();
    Set<Integer> egress = new TreeSet<>();
    Set<String> egressProtocols = new TreeSet<>();
    for (ObjectNode np : m.kind("NetworkPolicy")) {
      JsonNode spec = np.path("spec");
      Set<String> types = new TreeSet<>();
      spec.path("policyTypes").forEach(t -> types.add(t.asText()));
      if (spec.path("podSelector").isEmpty()
          && types.containsAll(Set.of("Ingress", "Egress"))
          && !spec.has("ingress")
          && !spec.has("egress")) defaultDeny = true;
      if (!matches(spec.path("podSelector"), pod.templateLabels())) continue;
      for (JsonNode rule : spec.path("ingress"))
        collectPorts(m, np, rule, pod, ingress, new TreeSet<>(), p);
      for (JsonNode rule : spec.path("egress"))
        collectPorts(m, np, rule, pod, egress, egressProtocols, p);
    }
    if (!defaultDeny)
      p.add(m.name + ": no default-deny NetworkPolicy (podSelector {}, Ingress and Egress)");
    Set<Integer> used = new TreeSet<>(nodePorts(c).values());
    if (!ingress.equals(used))
      p.add(m.name + ": ingress allowed on ports " + ingress + ", the node uses " + used);
    Set<Integer> needOut = new TreeSet<>();
    needOut.add(53);
    needOut.add(443); // Kubernetes API (discovery, SBR lease)
    needOut.add(c.getInt("akka.remote.artery.canonical.port"));
    needOut.add(c.getInt("akka.management.http.port"));
    for (String server :
        c.getString("shrivenquant.failover.replication.bootstrap-servers").split(","))
      needOut.add(Integer.parseInt(server.trim().replaceAll(".*:", "")));
    for (String url : c.getString("shrivenquant.failover.watcher.peer-health-urls").split(","))
      if (!url.isBlank()) needOut.add(port(URI.create(url.trim())));
    for (int port : needOut)
      if (!egress.contains(port))
        p.add(m.name + ": egress to port " + port + " (used by the node) is not allowed");
    // By protocol, to servers outside the cluster: the DNS server of the routing updates (UDP, and
    // TCP for large answers) and the etcd members of the witness, from the node's SQ_* variables.
    Set<String> needProtocol = new TreeSet<>();
    Map<String, String> env = pod.environment();
    if ("dns".equals(env.get(ROUTING_KIND))) {
      Optional<Integer> dnsPort = hostPort(env.getOrDefault(DNS_SERVER, ""), 53);
      dnsPort.ifPresent(
          port -> {
            needProtocol.add(port + "/UDP");
            needProtocol.add(port + "/TCP");
          });
    }
    if ("etcd".equals(env.get(WITNESS_KIND)))
      for (String url : env.getOrDefault(ETCD_ENDPOINTS, "").split(","))
        if (!url.isBlank()) etcdPort(url).ifPresent(port -> needProtocol.add(port + "/TCP"));
    for (String need : needProtocol)
      if (!egressProtocols.contains(need))
        p.add(m.name + ": egress to port " + need + " (used by the node) is not allowed");
    return p;
  }

  private static void collectPorts(
      Manifest m,
      ObjectNode np,
      JsonNode rule,
      Pod pod,
      Set<Integer> into,
      Set<String> withProtocol,
      List<String> p) {
    if (!rule.has("ports")) {
      p.add(m.name + ": " + Manifest.id(np) + " allows every port");
      return;
    }
    for (JsonNode port : rule.path("ports")) {
      JsonNode n = port.path("port");
      String protocol = port.path("protocol").asText("TCP");
      Optional<Integer> number = n.isInt() ? Optional.of(n.asInt()) : pod.namedPort(n.asText());
      if (number.isEmpty()) {
        p.add(m.name + ": " + Manifest.id(np) + " names unknown port " + n);
        continue;
      }
      into.add(number.get());
      if (offCluster(rule)) withProtocol.add(number.get() + "/" + protocol);
    }
  }

  /**
   * An egress rule that can reach a server outside the cluster: no peers (any destination) or an
   * ipBlock. Rules whose peers are only pod or namespace selectors (e.g. cluster DNS in
   * kube-system) cannot reach the authoritative DNS server or the etcd members.
   */
  private static boolean offCluster(JsonNode rule) {
    if (!rule.has("to") || rule.path("to").isEmpty()) return true;
    for (JsonNode peer : rule.path("to")) if (peer.has("ipBlock")) return true;
    return false;
  }

  /** The port of "host:port" (or {@code dflt} without one); empty if unparsable. */
  static Optional<Integer> hostPort(String hostPort, int dflt) {
    String s = hostPort.strip();
    if (s.isEmpty()) return Optional.empty();
    int colon = s.lastIndexOf(':');
    if (colon < 0 || s.endsWith("]")) return Optional.of(dflt);
    try {
      return Optional.of(Integer.parseInt(s.substring(colon + 1)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** An etcd client URL's port (etcd's client port 2379 when the URL names none). */
  static Optional<Integer> etcdPort(String url) {
    try {
      URI u = URI.create(url.strip());
      if (u.getHost() == null) return Optional.empty();
      return Optional.of(u.getPort() > 0 ? u.getPort() : 2379);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  static int port(URI uri) {
    if (uri.getPort() > 0) return uri.getPort();
    return "https".equals(uri.getScheme()) ? 443 : 80;
  }

  // --- availability: anti-affinity, disruption budget -----------------------------------------

  static List<String> availability(Manifest m) {
    List<String> p = new ArrayList<>();
    Pod pod = new Pod(m);
    JsonNode anti = pod.podSpec.path("affinity").path("podAntiAffinity");
    boolean zoneRequired = false;
    boolean zoneAny = false;
    for (JsonNode term : anti.path("requiredDuringSchedulingIgnoredDuringExecution"))
      if (isZoneSpread(term, pod)) zoneRequired = zoneAny = true;
    for (JsonNode w : anti.path("preferredDuringSchedulingIgnoredDuringExecution"))
      if (isZoneSpread(w.path("podAffinityTerm"), pod)) zoneAny = true;
    if (!zoneAny) p.add(m.name + ": no pod anti-affinity across zones for the engine pods");
    if (m.environment().equals("production") && !zoneRequired)
      p.add(m.name + ": production must require one engine node per zone");
    List<ObjectNode> pdbs = m.kind("PodDisruptionBudget");
    if (pdbs.isEmpty()) p.add(m.name + ": no PodDisruptionBudget");
    for (ObjectNode pdb : pdbs) {
      int replicas = pod.replicas();
      JsonNode spec = pdb.path("spec");
      int down =
          spec.has("maxUnavailable")
              ? spec.path("maxUnavailable").asInt()
              : replicas - spec.path("minAvailable").asInt();
      if (replicas - down <= replicas / 2 && replicas > 1)
        p.add(m.name + ": " + Manifest.id(pdb) + " lets the cluster lose its majority");
    }
    return p;
  }

  private static boolean isZoneSpread(JsonNode term, Pod pod) {
    return term.path("topologyKey").asText().equals("topology.kubernetes.io/zone")
        && matches(term.path("labelSelector"), pod.templateLabels());
  }

  // --- failover routing -----------------------------------------------------------------------

  static List<String> routing(Manifest m) {
    List<String> p = new ArrayList<>();
    Pod pod = new Pod(m);
    Config c = pod.config();
    String region = c.getString("shrivenquant.node.region");
    String peer = c.getString("shrivenquant.failover.peer-region");
    if (region.equals(peer)) p.add(m.name + ": region and peer region are both " + region);
    if (!m.name.endsWith("/" + region)) p.add(m.name + ": the node's region is " + region);
    Map<String, String> env = pod.environment();
    if (c.getString("shrivenquant.failover.routing.kind").equals("dns")) {
      // The router updates the client-facing name at the authoritative server (RFC 2136, TSIG).
      String name = env.getOrDefault(DNS_NAME, "");
      String zone = env.getOrDefault(DNS_ZONE, "");
      if (name.isBlank()) p.add(m.name + ": routing kind dns without " + DNS_NAME);
      else if (!name.endsWith("."))
        p.add(m.name + ": " + DNS_NAME + " " + name + " is not fully qualified (trailing dot)");
      if (zone.isBlank()) p.add(m.name + ": routing kind dns without " + DNS_ZONE);
      else if (!zone.endsWith("."))
        p.add(m.name + ": " + DNS_ZONE + " " + zone + " is not fully qualified (trailing dot)");
      else if (!name.isBlank()
          && !normalized(name).endsWith("." + normalized(zone))
          && !normalized(name).equals(normalized(zone)))
        p.add(m.name + ": " + DNS_NAME + " " + name + " is not in the zone " + zone);
      String server = env.getOrDefault(DNS_SERVER, "");
      if (server.isBlank()) p.add(m.name + ": routing kind dns without " + DNS_SERVER);
      else if (hostPort(server, 53).isEmpty())
        p.add(m.name + ": " + DNS_SERVER + " " + server + " is not host:port");
      if (env.getOrDefault(TSIG_KEY_NAME, "").isBlank())
        p.add(m.name + ": routing kind dns without " + TSIG_KEY_NAME);
      if (!fromSecret(pod, TSIG_SECRET))
        p.add(m.name + ": routing kind dns without " + TSIG_SECRET + " from a Secret");
      String orderApi = c.getString("shrivenquant.failover.routing.order-api-url");
      if (!orderApi.isBlank()
          && !name.isBlank()
          && normalized(URI.create(orderApi).getHost()).equals(normalized(name)))
        p.add(m.name + ": " + DNS_NAME + " would be a CNAME to itself (SQ_ORDER_API_URL)");
    }
    // The TSIG secret is a credential: a Secret's, never a ConfigMap's.
    for (ObjectNode cm : m.kind("ConfigMap"))
      if (cm.path("data").has(TSIG_SECRET))
        p.add(
            m.name
                + ": "
                + Manifest.id(cm)
                + " carries "
                + TSIG_SECRET
                + ": it belongs in a Secret");
    for (JsonNode e : pod.container.path("env"))
      if (e.path("name").asText().equals(TSIG_SECRET) && !fromSecret(pod, TSIG_SECRET))
        p.add(m.name + ": " + TSIG_SECRET + " is not from a Secret");
    String url = c.getString("shrivenquant.failover.routing.order-api-url");
    if (url.isBlank())
      p.add(m.name + ": no order-api-url (SQ_ORDER_API_URL) to publish at promotion");
    else {
      URI u = URI.create(url);
      ObjectNode svc = m.get("Service", "shrivenquant-orders");
      String ns = svc.path("metadata").path("namespace").asText();
      Set<String> hosts = new TreeSet<>();
      hosts.add("shrivenquant-orders." + ns + ".svc.cluster.local");
      JsonNode ann =
          svc.path("metadata")
              .path("annotations")
              .path("external-dns.alpha.kubernetes.io/hostname");
      if (ann.isTextual()) hosts.add(ann.asText());
      if (!hosts.contains(u.getHost()))
        p.add(
            m.name
                + ": order-api-url host "
                + u.getHost()
                + " is not this region's order Service "
                + hosts);
      if (port(u) != svc.path("spec").path("ports").path(0).path("port").asInt())
        p.add(m.name + ": order-api-url port " + port(u) + " is not the order Service's port");
    }
    for (String health : c.getString("shrivenquant.failover.watcher.peer-health-urls").split(","))
      if (!health.isBlank() && !URI.create(health.trim()).getHost().contains(peer))
        p.add(m.name + ": peer health URL " + health + " does not name the peer region " + peer);
    return p;
  }

  // --- the client-facing name: the failover's, never the manifests' ---------------------------

  static final String ROUTING_KIND = "SQ_ROUTING_KIND";
  static final String DNS_NAME = "SQ_ROUTING_DNS_NAME";
  static final String DNS_ZONE = "SQ_ROUTING_DNS_ZONE";
  static final String DNS_SERVER = "SQ_ROUTING_DNS_SERVER";
  static final String TSIG_KEY_NAME = "SQ_ROUTING_DNS_TSIG_KEY_NAME";
  static final String TSIG_SECRET = "SQ_ROUTING_DNS_TSIG_SECRET";
  static final String WITNESS_KIND = "SQ_WITNESS_KIND";
  static final String ETCD_ENDPOINTS = "SQ_WITNESS_ETCD_ENDPOINTS";
  static final String ETCD_PREFIX = "SQ_WITNESS_ETCD_PREFIX";
  static final String EXTERNAL_DNS_HOSTNAME = "external-dns.alpha.kubernetes.io/hostname";

  /**
   * No rendered object points the client-facing name anywhere: no external-dns DNSEndpoint, and the
   * name (SQ_ROUTING_DNS_NAME) appears in no object but as that variable's value. So applying an
   * overlay (a deploy) can never move clients: only the promoting region's failover does, by an RFC
   * 2136 update. The external-dns hostname annotations that remain name this region's own regional
   * names.
   */
  static List<String> clientName(Manifest m) {
    List<String> p = new ArrayList<>();
    for (ObjectNode o : m.kind("DNSEndpoint"))
      p.add(
          m.name
              + ": "
              + Manifest.id(o)
              + ": a DNS record in the manifests; every apply would move clients (the failover owns"
              + " the client-facing name)");
    Pod pod = new Pod(m);
    String region = m.name.substring(m.name.indexOf('/') + 1);
    String name = normalized(pod.environment().getOrDefault(DNS_NAME, ""));
    ObjectNode env = m.generatedConfigMap("shrivenquant-env");
    for (ObjectNode o : m.objects) {
      JsonNode hostnames = o.path("metadata").path("annotations").path(EXTERNAL_DNS_HOSTNAME);
      if (hostnames.isTextual())
        for (String host : hostnames.asText().split(","))
          if (!host.isBlank() && !normalized(host).contains(region))
            p.add(
                m.name
                    + ": "
                    + Manifest.id(o)
                    + " has external-dns publish "
                    + host.strip()
                    + ", which does not name this region ("
                    + region
                    + "): only the failover points a shared name");
      if (!name.isEmpty())
        mentions(o, "", name, o == env ? "/data/" + DNS_NAME : null)
            .forEach(
                path ->
                    p.add(
                        m.name
                            + ": "
                            + Manifest.id(o)
                            + " "
                            + path
                            + " names the client-facing name "
                            + name
                            + ": only the failover sets its record"));
    }
    return p;
  }

  /** JSON paths (field names or string values) under {@code node} that name the DNS name. */
  private static List<String> mentions(JsonNode node, String path, String name, String allowed) {
    List<String> found = new ArrayList<>();
    Pattern word = Pattern.compile("(?<![a-z0-9.-])" + Pattern.quote(name) + "(?!\\.?[a-z0-9-])");
    if (node.isTextual()) {
      if (!path.equals(allowed) && word.matcher(node.asText().toLowerCase()).find())
        found.add(path);
    } else if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String child = path + "/" + e.getKey();
        if (word.matcher(e.getKey().toLowerCase()).find()) found.add(child);
        found.addAll(mentions(e.getValue(), child, name, allowed));
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++)
        found.addAll(mentions(node.get(i), path + "/" + i, name, allowed));
    }
    return found;
  }

  /** A DNS name compared case-insensitively, without its trailing dot. */
  static String normalized(String dnsName) {
    String n = dnsName == null ? "" : dnsName.strip().toLowerCase();
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }

  /** The container takes the variable from a Secret (secretKeyRef), not a literal or ConfigMap. */
  static boolean fromSecret(Pod pod, String variable) {
    for (JsonNode e : pod.container.path("env"))
      if (e.path("name").asText().equals(variable))
        return e.path("valueFrom").has("secretKeyRef") && !e.has("value");
    return false;
  }

  // --- the witness of the primacy lease ---------------------------------------------------------

  /**
   * etcd: three (an odd number, at least three) members on distinct hosts, so a quorum survives the
   * loss of any one, and a key prefix of the environment's own. jdbc: its database from a Secret.
   */
  static List<String> witness(Manifest m) {
    List<String> p = new ArrayList<>();
    Pod pod = new Pod(m);
    Map<String, String> env = pod.environment();
    String kind = env.getOrDefault(WITNESS_KIND, "");
    switch (kind) {
      case "etcd" -> {
        List<String> urls = new ArrayList<>();
        for (String url : env.getOrDefault(ETCD_ENDPOINTS, "").split(","))
          if (!url.isBlank()) urls.add(url.strip());
        Set<String> hosts = new TreeSet<>();
        for (String url : urls) {
          if (etcdPort(url).isEmpty() || !url.matches("https?://.*"))
            p.add(m.name + ": " + ETCD_ENDPOINTS + " entry " + url + " is not a client URL");
          else hosts.add(normalized(URI.create(url).getHost()));
        }
        if (urls.size() < 3 || urls.size() % 2 == 0)
          p.add(
              m.name
                  + ": "
                  + ETCD_ENDPOINTS
                  + " names "
                  + urls.size()
                  + " members: the witness needs an odd number, at least three, so a quorum survives"
                  + " the loss of any one");
        if (hosts.size() != urls.size())
          p.add(m.name + ": " + ETCD_ENDPOINTS + " names one host twice: " + urls);
      }
      case "jdbc" -> {
        if (!fromSecret(pod, "SQ_WITNESS_JDBC_URL"))
          p.add(m.name + ": witness kind jdbc without SQ_WITNESS_JDBC_URL from a Secret");
      }
      default -> p.add(m.name + ": " + WITNESS_KIND + " is '" + kind + "', not etcd or jdbc");
    }
    String prefix = env.getOrDefault(ETCD_PREFIX, "");
    if (prefix.isBlank()) p.add(m.name + ": no " + ETCD_PREFIX + " of this environment's own");
    else if (!prefix.startsWith("/") || !prefix.endsWith("/"))
      p.add(m.name + ": " + ETCD_PREFIX + " " + prefix + " must start and end with /");
    return p;
  }

  // --- across environments ----------------------------------------------------------------------

  /**
   * The regions of one environment agree on its client-facing name, routing, witness and prefix; no
   * two environments share a client-facing name or witness keys (a staging failover must never
   * write production's record or take production's lease). {@code byOverlay}: every leaf overlay.
   */
  static List<String> acrossEnvironments(List<Manifest> overlays) {
    List<String> p = new ArrayList<>();
    Map<String, Map<String, String>> byEnv = new LinkedHashMap<>();
    for (Manifest m : overlays) {
      Map<String, String> env = new Pod(m).environment();
      Map<String, String> mine = new LinkedHashMap<>();
      for (String v :
          List.of(
              ROUTING_KIND,
              DNS_NAME,
              DNS_ZONE,
              DNS_SERVER,
              WITNESS_KIND,
              ETCD_ENDPOINTS,
              ETCD_PREFIX)) mine.put(v, env.getOrDefault(v, ""));
      Map<String, String> first = byEnv.putIfAbsent(m.environment(), mine);
      if (first != null)
        for (String v : mine.keySet())
          if (!first.get(v).equals(mine.get(v)))
            p.add(
                m.environment()
                    + ": its regions disagree on "
                    + v
                    + " ('"
                    + first.get(v)
                    + "' and '"
                    + mine.get(v)
                    + "')");
    }
    List<String> envs = new ArrayList<>(byEnv.keySet());
    for (String e : envs) {
      if (byEnv.get(e).get(DNS_NAME).isBlank())
        p.add(e + ": names no client-facing record (" + DNS_NAME + ")");
      if (byEnv.get(e).get(ETCD_PREFIX).isBlank())
        p.add(e + ": names no witness prefix (" + ETCD_PREFIX + ")");
    }
    for (int i = 0; i < envs.size(); i++)
      for (int j = i + 1; j < envs.size(); j++) {
        String a = envs.get(i);
        String b = envs.get(j);
        String nameA = normalized(byEnv.get(a).get(DNS_NAME));
        String nameB = normalized(byEnv.get(b).get(DNS_NAME));
        if (!nameA.isEmpty() && nameA.equals(nameB))
          p.add(a + " and " + b + " share the client-facing name " + nameA + " (" + DNS_NAME + ")");
        String prefixA = byEnv.get(a).get(ETCD_PREFIX);
        String prefixB = byEnv.get(b).get(ETCD_PREFIX);
        if (!prefixA.isEmpty()
            && !prefixB.isEmpty()
            && (prefixA.startsWith(prefixB) || prefixB.startsWith(prefixA)))
          p.add(
              a
                  + " and "
                  + b
                  + " share witness keys: "
                  + ETCD_PREFIX
                  + " "
                  + prefixA
                  + " and "
                  + prefixB
                  + " overlap");
      }
    return p;
  }

  // --- operator API tokens ---------------------------------------------------------------------

  /**
   * The node's tokens file (shrivenquant.operator-api.tokens-file) is the key {@code tokens} of the
   * Secret shrivenquant-operator-tokens, mounted as a directory: a subPath mount would never see
   * the Secret's updates, so tokens would not rotate without a restart.
   */
  static List<String> operatorTokens(Manifest m) {
    List<String> p = new ArrayList<>();
    Pod pod = new Pod(m);
    String file = pod.config().getString("shrivenquant.operator-api.tokens-file");
    boolean found = false;
    for (JsonNode mount : pod.container.path("volumeMounts")) {
      String dir = mount.path("mountPath").asText();
      if (!file.startsWith(dir + "/")) continue;
      String inVolume = file.substring(dir.length() + 1);
      if (mount.has("subPath"))
        p.add(
            m.name
                + ": the tokens volume is mounted with a subPath: updates of the Secret never reach the node");
      for (JsonNode volume : pod.podSpec.path("volumes")) {
        if (!volume.path("name").asText().equals(mount.path("name").asText())) continue;
        JsonNode secret = volume.path("secret");
        String key = inVolume;
        for (JsonNode item : secret.path("items"))
          if (item.path("path").asText().equals(inVolume)) key = item.path("key").asText();
        found =
            secret.path("secretName").asText().equals("shrivenquant-operator-tokens")
                && key.equals("tokens");
      }
    }
    if (!found)
      p.add(
          m.name
              + ": the tokens file "
              + file
              + " is not the key tokens of the Secret shrivenquant-operator-tokens");
    return p;
  }

  // --- label selectors ------------------------------------------------------------------------

  /** A LabelSelector (matchLabels / matchExpressions) against labels. */
  static boolean matches(JsonNode selector, JsonNode labels) {
    if (selector.isMissingNode() || selector.isNull()) return false;
    if (!selector.has("matchLabels") && !selector.has("matchExpressions")) return true;
    if (!matchLabels(selector.path("matchLabels"), labels)) return false;
    for (JsonNode e : selector.path("matchExpressions")) {
      String key = e.path("key").asText();
      Set<String> values = new TreeSet<>();
      e.path("values").forEach(v -> values.add(v.asText()));
      boolean has = labels.has(key);
      boolean ok =
          switch (e.path("operator").asText()) {
            case "In" -> has && values.contains(labels.path(key).asText());
            case "NotIn" -> !has || !values.contains(labels.path(key).asText());
            case "Exists" -> has;
            case "DoesNotExist" -> !has;
            default -> false;
          };
      if (!ok) return false;
    }
    return true;
  }

  static boolean matchLabels(JsonNode wanted, JsonNode labels) {
    for (Iterator<Map.Entry<String, JsonNode>> it = wanted.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!labels.path(e.getKey()).asText("\u0000").equals(e.getValue().asText())) return false;
    }
    return true;
  }
}
