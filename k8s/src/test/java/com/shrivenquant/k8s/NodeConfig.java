package com.shrivenquant.k8s;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The node's configuration as a pod would load it, read from the modules' source files (this module
 * depends on none of them): SQ_* environment > the ConfigMap's HOCON overlay > cluster's
 * application.conf > the engine's journal config > the modules' reference.conf > the libraries'
 * reference.conf on this test class path (Akka, Akka Management, Kamon Prometheus).
 */
final class NodeConfig {
  private NodeConfig() {}

  static Path clusterResources() {
    return Tools.repoDir().resolve("cluster/src/main/resources");
  }

  /**
   * Every HOCON file of the node's own modules (src/main/resources/*.conf), application.conf last.
   */
  static List<Path> moduleConfigFiles() {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> modules = Files.list(Tools.repoDir())) {
      for (Path module : modules.sorted().toList()) {
        Path res = module.resolve("src/main/resources");
        if (module.getFileName().toString().equals("k8s") || !Files.isDirectory(res)) continue;
        try (Stream<Path> confs = Files.list(res)) {
          confs.filter(f -> f.toString().endsWith(".conf")).sorted().forEach(files::add);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  /** The SQ_* variables the node reads: every ${?SQ_...} in its modules' HOCON files. */
  static Set<String> knownEnvironmentVariables() {
    Set<String> vars = new TreeSet<>();
    Pattern p = Pattern.compile("\\$\\{\\?(SQ_[A-Z0-9_]+)}");
    for (Path f : moduleConfigFiles()) {
      try {
        Matcher m = p.matcher(Files.readString(f));
        while (m.find()) vars.add(m.group(1));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return vars;
  }

  /** The libraries' and modules' defaults, unresolved. */
  static Config reference() {
    Config modules = ConfigFactory.empty();
    for (Path f : moduleConfigFiles()) {
      if (f.getFileName().toString().equals("reference.conf"))
        modules = modules.withFallback(parse(f));
    }
    return modules.withFallback(ConfigFactory.parseResourcesAnySyntax("reference.conf"));
  }

  /** application.conf with what it includes from the engine (shrivenquant-journal.conf). */
  static Config application() {
    Config app = parse(clusterResources().resolve("application.conf"));
    for (Path f : moduleConfigFiles()) {
      String n = f.getFileName().toString();
      if (!n.equals("reference.conf") && !n.equals("application.conf"))
        app = app.withFallback(parse(f));
    }
    return app;
  }

  static Config parseOverlay(String hocon) {
    // Its `include classpath("application.conf")` finds nothing on this class path: application()
    // stands in for it below.
    return ConfigFactory.parseString(hocon, ConfigParseOptions.defaults().setAllowMissing(true));
  }

  /** The effective configuration of a node with this overlay and these environment variables. */
  static Config effective(String overlayHocon, Map<String, String> environment) {
    return ConfigFactory.parseMap(environment)
        .withFallback(parseOverlay(overlayHocon))
        .withFallback(application())
        .withFallback(reference())
        .resolve(ConfigResolveOptions.noSystem());
  }

  /** Paths the overlay sets that no library, module or application.conf defines: typos. */
  static List<String> unknownOverlayPaths(String overlayHocon) {
    Config known =
        application()
            .withFallback(reference())
            .resolve(ConfigResolveOptions.noSystem().setAllowUnresolved(true));
    List<String> unknown = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : parseOverlay(overlayHocon).entrySet()) {
      if (!known.hasPathOrNull(e.getKey())) unknown.add(e.getKey());
    }
    return unknown;
  }

  private static Config parse(Path f) {
    return ConfigFactory.parseFile(
        f.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
  }
}
