package com.shrivenquant.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The node's own configuration, read in one place from {@code shrivenquant.node}. */
public record NodeSettings(
    String region,
    String httpInterface,
    int httpPort,
    long maxBodyBytes,
    boolean migrateOnStart,
    String contactPoints,
    String jdbcUrl,
    String jdbcUser,
    String jdbcPassword) {

  public static NodeSettings fromConfig(Config root) {
    Config c = root.getConfig("shrivenquant.node");
    Config db = root.getConfig("akka-persistence-jdbc.shared-databases.slick.db");
    return new NodeSettings(
        c.getString("region"),
        c.getString("http.interface"),
        c.getInt("http.port"),
        c.getBytes("http.max-body-bytes"),
        c.getBoolean("migrate-on-start"),
        c.getString("contact-points"),
        db.getString("url"),
        db.getString("user"),
        db.getString("password"));
  }

  /** The configuration with {@code contact-points} applied as config-discovery endpoints. */
  public static Config withContactPoints(Config root) {
    String points = root.getString("shrivenquant.node.contact-points").trim();
    if (points.isEmpty()) return root;
    String service =
        root.getString("akka.management.cluster.bootstrap.contact-point-discovery.service-name");
    List<Map<String, Object>> endpoints = new ArrayList<>();
    for (String point : points.split(",")) {
      String[] hostPort = point.trim().split(":");
      endpoints.add(Map.of("host", hostPort[0], "port", Integer.parseInt(hostPort[1])));
    }
    return ConfigFactory.parseMap(
            Map.of("akka.discovery.config.services." + service + ".endpoints", endpoints))
        .withFallback(root);
  }
}
