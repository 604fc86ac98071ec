package com.shrivenquant.bench.telemetry;

import com.shrivenquant.cluster.telemetry.NodeTelemetry;
import com.shrivenquant.cluster.telemetry.TelemetrySettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.lang.management.ManagementFactory;

/**
 * What telemetry costs a node that is idle (JVM and host collectors, Prometheus ticks): process CPU
 * per second with telemetry started as a node starts it ({@code on}) or not ({@code off}). Run both
 * side by side: {@code java -cp 'bench/target/classes:bench/target/lib/*'
 * com.shrivenquant.bench.telemetry.TelemetryIdleCost on} (and {@code off}).
 */
public final class TelemetryIdleCost {
  private TelemetryIdleCost() {}

  public static void main(String[] args) throws Exception {
    boolean on = args.length > 0 && args[0].equals("on");
    int warmupSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 120;
    Config config =
        ConfigFactory.parseString(
                "kamon.prometheus.embedded-server.hostname = 127.0.0.1\n"
                    + "kamon.prometheus.embedded-server.port = 0\n"
                    + "shrivenquant.telemetry.enabled = "
                    + on)
            .withFallback(ConfigFactory.load());
    NodeTelemetry.start(config, TelemetrySettings.fromConfig(config, "region-1"));
    var os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    Thread.sleep(warmupSeconds * 1000L);
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    Thread.sleep(seconds * 1000L);
    double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6;
    double elapsed = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        "telemetry %s: %.2f ms CPU per second (%.3f %% of one core) over %.0f s%n",
        on ? "on" : "off", cpuMs / elapsed, cpuMs / elapsed / 10, elapsed);
    System.exit(0);
  }
}
