package com.shrivenquant.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The engine pod of a rendered overlay, seen the way the node inside it would see it. */
final class Pod {
  static final String POD_IP = "10.11.12.13";
  static final String SECRET = "<operator-supplied secret>";

  final Manifest manifest;
  final ObjectNode container;
  final JsonNode podSpec;

  Pod(Manifest manifest) {
    this.manifest = manifest;
    this.podSpec = manifest.engine().path("spec").path("template").path("spec");
    this.container = manifest.engineContainer();
  }

  JsonNode templateLabels() {
    return manifest.engine().path("spec").path("template").path("metadata").path("labels");
  }

  /**
   * The container's environment: envFrom ConfigMaps, then env (literal, ConfigMap, pod IP, Secret).
   */
  Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    for (JsonNode from : container.path("envFrom")) {
      if (from.has("configMapRef")) {
        manifest
            .find("ConfigMap", from.path("configMapRef").path("name").asText())
            .ifPresent(
                cm ->
                    cm.path("data")
                        .fields()
                        .forEachRemaining(f -> env.put(f.getKey(), f.getValue().asText())));
      }
    }
    for (JsonNode e : container.path("env")) {
      String name = e.path("name").asText();
      JsonNode from = e.path("valueFrom");
      if (e.has("value")) env.put(name, e.path("value").asText());
      else if (from.has("fieldRef"))
        env.put(
            name,
            from.path("fieldRef").path("fieldPath").asText().equals("status.podIP")
                ? POD_IP
                : "field");
      else if (from.has("secretKeyRef")) env.put(name, SECRET);
      else if (from.has("configMapKeyRef")) {
        JsonNode ref = from.path("configMapKeyRef");
        manifest
            .find("ConfigMap", ref.path("name").asText())
            .map(cm -> cm.path("data").path(ref.path("key").asText()))
            .filter(JsonNode::isTextual)
            .ifPresent(v -> env.put(name, v.asText()));
      }
    }
    return env;
  }

  /** The -Dconfig.file the JVM options select, if any. */
  Optional<String> configFile() {
    Matcher m =
        Pattern.compile("-Dconfig\\.file=(\\S+)")
            .matcher(environment().getOrDefault("JDK_JAVA_OPTIONS", ""));
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /** The text of the HOCON overlay mounted at the -Dconfig.file path (empty if none). */
  Optional<String> overlay() {
    Optional<String> file = configFile();
    if (file.isEmpty()) return Optional.empty();
    for (JsonNode mount : container.path("volumeMounts")) {
      String path = mount.path("mountPath").asText();
      String subPath = mount.path("subPath").asText();
      String fileInVolume;
      if (path.equals(file.get()) && !subPath.isEmpty()) fileInVolume = subPath;
      else if (file.get().startsWith(path + "/"))
        fileInVolume = file.get().substring(path.length() + 1);
      else continue;
      for (JsonNode volume : podSpec.path("volumes")) {
        if (!volume.path("name").asText().equals(mount.path("name").asText())) continue;
        JsonNode cmRef = volume.path("configMap");
        if (cmRef.isMissingNode()) return Optional.empty();
        String key = fileInVolume;
        for (JsonNode item : cmRef.path("items"))
          if (item.path("path").asText().equals(fileInVolume)) key = item.path("key").asText();
        String k = key;
        return manifest
            .find("ConfigMap", cmRef.path("name").asText())
            .map(cm -> cm.path("data").path(k))
            .filter(JsonNode::isTextual)
            .map(JsonNode::asText);
      }
    }
    return Optional.empty();
  }

  /** The node's effective configuration in this pod. */
  Config config() {
    return NodeConfig.effective(overlay().orElse(""), environment());
  }

  /** A container port by name, or by number given as text. */
  Optional<Integer> containerPort(JsonNode port) {
    if (port.isInt()) {
      int n = port.asInt();
      for (JsonNode p : container.path("ports"))
        if (p.path("containerPort").asInt() == n) return Optional.of(n);
      return Optional.empty();
    }
    for (JsonNode p : container.path("ports"))
      if (p.path("name").asText().equals(port.asText()))
        return Optional.of(p.path("containerPort").asInt());
    return Optional.empty();
  }

  Optional<Integer> namedPort(String name) {
    return containerPort(Manifest.JSON.getNodeFactory().textNode(name));
  }

  int replicas() {
    return manifest.engine().path("spec").path("replicas").asInt(1);
  }
}
