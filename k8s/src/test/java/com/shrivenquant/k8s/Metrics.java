package com.shrivenquant.k8s;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Metric names the rules and the dashboard may use, and a small PromQL name extractor. */
final class Metrics {
  private Metrics() {}

  /** What the node exports through Kamon's Prometheus reporter (fixed by the operations issue). */
  static final Set<String> NODE =
      Set.of(
          "sq_order_ack_latency_seconds_bucket", "sq_order_ack_latency_seconds_count", "sq_order_ack_latency_seconds_sum",
          "sq_orders_accepted_total", "sq_orders_rejected_total", "sq_position_limit_breaches_total",
          "sq_open_orders",
          "sq_replication_lag_seconds_bucket", "sq_replication_lag_seconds_count", "sq_replication_lag_seconds_sum",
          "sq_region_epoch", "sq_region_active", "sq_lease_age_seconds", "sq_failovers_total",
          "sq_failover_duration_seconds_bucket", "sq_failover_duration_seconds_count", "sq_failover_duration_seconds_sum",
          "sq_drill_duration_seconds_bucket", "sq_drill_duration_seconds_count", "sq_drill_duration_seconds_sum");

  /** Kamon system metrics (jvm.memory.used histogram, jvm.memory.max gauge, host storage mounts). */
  static final Set<String> KAMON =
      Set.of(
          "jvm_memory_used_bytes_bucket", "jvm_memory_used_bytes_count", "jvm_memory_used_bytes_sum",
          "jvm_memory_max_bytes",
          "host_storage_mount_space_used_bytes", "host_storage_mount_space_total_bytes");

  /** Prometheus' own per-target series. */
  static final Set<String> PROMETHEUS = Set.of("up");

  private static final Set<String> KEYWORDS =
      Set.of("and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "inf", "nan");

  /** The metric (or recorded series) names an expression selects. */
  static Set<String> names(String expr) {
    String s = expr.replaceAll("\"[^\"]*\"", "\"\"") // strings
        .replaceAll("\\{[^}]*}", " ") // label matchers
        .replaceAll("\\[[^]]*]", " ") // range selectors
        .replaceAll("(?<![a-zA-Z0-9_:])[0-9][0-9.e+-]*(ms|[smhdwy])?(?![a-zA-Z0-9_:])", " ") // numbers, durations
        .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " "); // label lists
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
