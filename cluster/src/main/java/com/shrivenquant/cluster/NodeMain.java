package com.shrivenquant.cluster;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import com.shrivenquant.cluster.http.OrderRoutes;
import com.shrivenquant.cluster.region.RegionWiring;
import com.shrivenquant.cluster.telemetry.NodeTelemetry;
import com.shrivenquant.cluster.telemetry.TelemetrySettings;
import com.shrivenquant.engine.EngineSettings;
import com.shrivenquant.engine.instrument.OrderEntry;
import com.shrivenquant.engine.persistence.JournalSchema;
import com.shrivenquant.failover.FailoverSettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The deployable node: schema, ActorSystem, management and bootstrap, engine, order API. */
public final class NodeMain {
  private static final Logger log = LoggerFactory.getLogger(NodeMain.class);

  /** What a started node exposes to the launcher and to in-JVM tests. */
  public record Node(ActorSystem<Void> system, OrderEntry orderEntry, ServerBinding http) {}

  private NodeMain() {}

  public static void main(String[] args) throws Exception {
    start(ConfigFactory.load());
  }

  public static Node start(Config loaded) throws Exception {
    Config config = NodeSettings.withContactPoints(loaded);
    NodeSettings settings = NodeSettings.fromConfig(config);
    NodeTelemetry.start(config, TelemetrySettings.fromConfig(config, settings.region()));
    if (settings.migrateOnStart()) {
      JournalSchema.migrate(settings.jdbcUrl(), settings.jdbcUser(), settings.jdbcPassword());
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "shrivenquant", config);
    // Loads the persistence plugins now (auto-start-journals): their connection pool must be up
    // before the first order, and before a promotion recovers entities.
    akka.persistence.Persistence.get(Adapter.toClassic(system));
    AkkaManagement.get(Adapter.toClassic(system)).start();
    ClusterBootstrap.get(Adapter.toClassic(system)).start();

    RegionWiring region =
        RegionWiring.start(
            system,
            FailoverSettings.fromConfig(config, settings.region()),
            settings.jdbcUrl(),
            settings.jdbcUser(),
            settings.jdbcPassword());
    NodeTelemetry.watch(region.agent());
    OrderEntry entry = OrderEntry.start(system, EngineSettings.fromConfig(config), region.gate());
    region.startWithEngine(system, entry);
    ServerBinding binding =
        Http.get(system)
            .newServerAt(settings.httpInterface(), settings.httpPort())
            .bind(new OrderRoutes(entry, settings.maxBodyBytes(), region).route())
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS)
            .addToCoordinatedShutdown(Duration.ofSeconds(5), system);
    CoordinatedShutdown.get(system)
        .addJvmShutdownHook(() -> log.info("Node {} stopped", system.address()));
    log.info(
        "Node {} of {} serving orders on http://{}",
        system.address(),
        settings.region(),
        binding.localAddress().getHostString() + ":" + binding.localAddress().getPort());
    return new Node(system, entry, binding);
  }
}
