package com.shrivenquant.cluster.ops;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The operator API's configuration, read in one place from {@code shrivenquant.operator-api}. */
public record OperatorApiSettings(
    Optional<Path> tokensFile,
    String inlineTokens,
    Duration reloadInterval,
    FailureThrottle.Settings throttle,
    Duration actionTimeout) {

  public static OperatorApiSettings fromConfig(Config root) {
    Config c = root.getConfig("shrivenquant.operator-api");
    String file = c.getString("tokens-file").trim();
    return new OperatorApiSettings(
        file.isEmpty() ? Optional.empty() : Optional.of(Path.of(file)),
        c.getString("tokens"),
        c.getDuration("reload-interval"),
        new FailureThrottle.Settings(
            c.getInt("throttle.max-failures"),
            c.getDuration("throttle.window"),
            c.getDuration("throttle.block-for")),
        c.getDuration("action-timeout"));
  }
}
