package com.shrivenquant.engine;

import com.shrivenquant.engine.core.RiskLimits;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The engine's configuration, read in one place from {@code shrivenquant.engine}. */
public record EngineSettings(
    Duration askTimeout,
    int maxBatch,
    int maxQueue,
    int snapshotEvery,
    int retainedCompletedOrders,
    Map<String, InstrumentSpec> instruments) {

  public record InstrumentSpec(String symbol, long referencePrice, RiskLimits limits) {}

  public static EngineSettings fromConfig(Config root) {
    Config c = root.getConfig("shrivenquant.engine");
    RiskLimits defaults = limits(c.getConfig("default-limits"));
    Map<String, InstrumentSpec> instruments = new LinkedHashMap<>();
    for (Config i : c.getConfigList("instruments")) {
      RiskLimits limits =
          i.hasPath("limits")
              ? limits(i.getConfig("limits").withFallback(c.getConfig("default-limits")))
              : defaults;
      String symbol = i.getString("symbol");
      instruments.put(symbol, new InstrumentSpec(symbol, i.getLong("reference-price"), limits));
    }
    Config synthetic = c.getConfig("synthetic-instruments");
    for (int n = 0; n < synthetic.getInt("count"); n++) {
      String symbol = synthetic.getString("prefix") + String.format("%03d", n);
      instruments.putIfAbsent(
          symbol, new InstrumentSpec(symbol, synthetic.getLong("reference-price"), defaults));
    }
    return new EngineSettings(
        c.getDuration("ask-timeout"),
        c.getInt("group-commit.max-batch"),
        c.getInt("group-commit.max-queue"),
        c.getInt("snapshot-every"),
        c.getInt("retained-completed-orders"),
        Collections.unmodifiableMap(instruments));
  }

  public Optional<InstrumentSpec> instrument(String symbol) {
    return Optional.ofNullable(instruments.get(symbol));
  }

  private static RiskLimits limits(Config c) {
    return new RiskLimits(
        c.getLong("max-order-quantity"),
        c.getLong("max-notional"),
        c.getLong("price-band-bps"),
        c.getLong("max-position"),
        c.getInt("max-open-orders"));
  }
}
