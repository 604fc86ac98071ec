package com.shrivenquant.cluster.telemetry;

import com.typesafe.config.Config;

/**
 * The node's telemetry configuration, read in one place from {@code shrivenquant.telemetry}.
 * Kamon's own keys (Prometheus port, buckets, modules) stay under {@code kamon}.
 *
 * @param enabled whether Kamon runs (metrics endpoint, collectors, spans)
 * @param node the node's name in every metric series, log line and span; empty: the Akka remoting
 *     address (host:port), unique per node on one machine
 * @param otlpEndpoint where spans go over OpenTelemetry (OTLP); empty: nowhere
 * @param otlpProtocol {@code grpc} or {@code http/protobuf}
 */
public record TelemetrySettings(
    boolean enabled, String region, String node, String otlpEndpoint, String otlpProtocol) {

  public static TelemetrySettings fromConfig(Config root, String region) {
    Config c = root.getConfig("shrivenquant.telemetry");
    String node = c.getString("node-name").trim();
    if (node.isEmpty()) {
      node =
          root.getString("akka.remote.artery.canonical.hostname")
              + ":"
              + root.getInt("akka.remote.artery.canonical.port");
    }
    String protocol = c.getString("otlp.protocol");
    if (!protocol.equals("grpc") && !protocol.equals("http/protobuf"))
      throw new IllegalArgumentException(
          "shrivenquant.telemetry.otlp.protocol must be grpc or http/protobuf: " + protocol);
    return new TelemetrySettings(
        c.getBoolean("enabled"), region, node, c.getString("otlp.endpoint").trim(), protocol);
  }

  public boolean exportsTraces() {
    return !otlpEndpoint.isEmpty();
  }
}
