package com.shrivenquant.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/** The objects one overlay renders to, as JSON trees (mutable copies for the negative tests). */
final class Manifest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final YAMLMapper YAML = new YAMLMapper(new YAMLFactory());
  private static final ConcurrentHashMap<Path, String> RENDERED = new ConcurrentHashMap<>();

  /** Where in the overlay tree it came from, e.g. "production/region-1" (env and region). */
  final String name;

  final List<ObjectNode> objects;

  Manifest(String name, List<ObjectNode> objects) {
    this.name = name;
    this.objects = objects;
  }

  /** Renders a kustomization directory with `kubectl kustomize`; fails with kubectl's message. */
  static String render(Path dir) {
    return RENDERED.computeIfAbsent(
        dir.toAbsolutePath().normalize(),
        d -> {
          Tools.Result r = Tools.run(List.of(Tools.kubectl(), "kustomize", d.toString()), d);
          if (r.exit() != 0) {
            throw new IllegalStateException(
                "kubectl kustomize "
                    + d
                    + " failed (needs kustomize v5, kubectl >= 1.27):\n"
                    + r.both());
          }
          return r.out();
        });
  }

  static Manifest load(String name, Path dir) {
    return parse(name, render(dir));
  }

  static Manifest parse(String name, String yaml) {
    try {
      List<ObjectNode> objects = new ArrayList<>();
      for (JsonNode doc : YAML.readValues(YAML.createParser(yaml), JsonNode.class).readAll()) {
        if (doc == null || doc.isNull() || doc.isMissingNode()) continue;
        if (!doc.isObject()) throw new IllegalArgumentException("not an object: " + doc);
        objects.add((ObjectNode) doc);
      }
      return new Manifest(name, objects);
    } catch (IOException e) {
      throw new IllegalStateException("unparsable render of " + name, e);
    }
  }

  Manifest copy() {
    return new Manifest(
        name,
        objects.stream()
            .map(ObjectNode::deepCopy)
            .collect(Collectors.toCollection(ArrayList::new)));
  }

  String environment() {
    return name.split("/")[0];
  }

  List<ObjectNode> kind(String kind) {
    return objects.stream().filter(o -> kind.equals(o.path("kind").asText())).toList();
  }

  Optional<ObjectNode> find(String kind, String name) {
    return kind(kind).stream().filter(o -> name.equals(name(o))).findFirst();
  }

  ObjectNode get(String kind, String name) {
    return find(kind, name)
        .orElseThrow(() -> new IllegalStateException(this.name + ": no " + kind + "/" + name));
  }

  /** The ConfigMap a generator produced (name plus kustomize's hash suffix). */
  ObjectNode generatedConfigMap(String prefix) {
    return kind("ConfigMap").stream()
        .filter(o -> name(o).equals(prefix) || name(o).matches(prefix + "-[a-z0-9]{10}"))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException(name + ": no ConfigMap " + prefix));
  }

  /** The engine workload and its only container. */
  ObjectNode engine() {
    return get("Deployment", "shrivenquant");
  }

  ObjectNode engineContainer() {
    return (ObjectNode)
        engine().path("spec").path("template").path("spec").path("containers").get(0);
  }

  static String name(JsonNode o) {
    return o.path("metadata").path("name").asText();
  }

  static String id(JsonNode o) {
    return o.path("kind").asText() + "/" + name(o);
  }
}
