package com.shrivenquant.cluster;

import com.typesafe.config.Config;

/** The node's own configuration, read in one place from {@code shrivenquant.node}. */
public record NodeSettings(
    String region,
    String httpInterface,
    int httpPort,
    long maxBodyBytes,
    boolean migrateOnStart,
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
        db.getString("url"),
        db.getString("user"),
        db.getString("password"));
  }
}
