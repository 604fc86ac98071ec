package com.shrivenquant.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Metric names the rules and the dashboard may use, and a small PromQL name extractor. */
final class Metrics {
  private Metrics() {}

  /** What the node exports through Kamon's Prometheus reporter (its own sq_* series). */
  static final Set<String> NODE = listed("node");

  /**
   * Kamon system metrics (jvm.memory.used histogram, jvm.memory.max gauge, host storage mounts).
   */
  static final Set<String> KAMON = listed("kamon");

  // One list for the k8s tests and the node's scrape test (cluster NodeTelemetryIT).
  private static Set<String> listed(String source) {
    try {
      Set<String> names = new TreeSet<>();
      for (String line :
          Files.readAllLines(Tools.k8sDir().resolve("monitoring-tests/node-metrics.txt"))) {
        String[] f = line.strip().split("\\s+");
        if (f.length == 2 && f[0].equals(source)) names.add(f[1]);
      }
      if (names.isEmpty())
        throw new IllegalStateException("no " + source + " metrics in node-metrics.txt");
      return Set.copyOf(names);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Prometheus' own per-target series. */
  static final Set<String> PROMETHEUS = Set.of("up");

  private static final Set<String> KEYWORDS =
      Set.of(
          "and",
          "or",
          "unless",
          "by",
          "without",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "offset",
          "bool",
          "inf",
          "nan");

  /** The metric (or recorded series) names an expression selects. */
  static Set<String> names(String expr) {
    String s =
        expr.replaceAll("\"[^\"]*\"", "\"\"") // strings
            .replaceAll("\\{[^}]*}", " ") // label matchers
            .replaceAll("\\[[^]]*]", " ") // range selectors
            .replaceAll(
                "(?<![a-zA-Z0-9_:])[0-9][0-9.e+-]*(ms|[smhdwy])?(?![a-zA-Z0-9_:])",
                " ") // numbers, durations
            .replaceAll(
                "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)",
                " "); // label lists
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?").matcher(s);
    while (m.find()) {
      String token = m.group(1);
      if (m.group(2) != null) continue; // a function or aggregation
      if (KEYWORDS.contains(token.toLowerCase())) continue;
      if (token.matches("\\d.*|[0-9]+[smhdwy]")) continue;
      names.add(token);
    }
    return names;
  }

  /** The name without a histogram's _bucket/_sum/_count suffix. */
  static String base(String name) {
    return name.replaceAll("_(bucket|sum|count)$", "");
  }
}
