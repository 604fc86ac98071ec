package com.shrivenquant.k8s;

import java.nio.file.Path;
import java.util.List;

/** The leaf overlays: every environment for every region. */
final class Overlays {
  private Overlays() {}

  static final List<String> ENVIRONMENTS = List.of("dev", "staging", "production");
  static final List<String> REGIONS = List.of("region-1", "region-2");

  static List<String> names() {
    return ENVIRONMENTS.stream().flatMap(e -> REGIONS.stream().map(r -> e + "/" + r)).toList();
  }

  static Path dir(String name) {
    return Tools.k8sDir().resolve("overlays").resolve(name);
  }

  static Manifest load(String name) {
    return Manifest.load(name, dir(name));
  }
}
