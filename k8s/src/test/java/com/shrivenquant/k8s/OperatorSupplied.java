package com.shrivenquant.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** k8s/operator-supplied.yaml: the Secrets and keys the operator creates, never committed. */
final class OperatorSupplied {
  private OperatorSupplied() {}

  static Map<String, Set<String>> secrets() {
    try {
      JsonNode doc =
          Manifest.YAML.readTree(Tools.k8sDir().resolve("operator-supplied.yaml").toFile());
      Map<String, Set<String>> secrets = new TreeMap<>();
      for (JsonNode s : doc.path("secrets")) {
        Set<String> keys = new TreeSet<>();
        s.path("keys").fieldNames().forEachRemaining(keys::add);
        secrets.put(s.path("name").asText(), keys);
      }
      return secrets;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
