package com.shrivenquant.bench.load;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.ShardingEnvelope;
import com.shrivenquant.engine.EngineSettings;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.Side;
import com.shrivenquant.engine.core.TimeInForce;
import com.shrivenquant.engine.instrument.InstrumentEntity;
import com.shrivenquant.engine.instrument.InstrumentEntity.Command;
import com.shrivenquant.engine.instrument.InstrumentEntity.Place;
import com.shrivenquant.engine.instrument.InstrumentEntity.PlaceReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.Placed;
import com.shrivenquant.testkit.infra.FreePorts;
import com.shrivenquant.testkit.infra.LocalPostgres;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one hot instrument sustains with group commit, without HTTP in the way: a one-node cluster
 * in this JVM, its entity fed through sharding by a driver that keeps a fixed window of orders in
 * flight, on the given PostgreSQL.
 */
final class HotInstrumentCapacity {
  record Result(long orders, double seconds, double ordersPerSecond, long placedFailures) {}

  static Result run(LocalPostgres.Database db, int window, int warmupSeconds, int seconds)
      throws Exception {
    Config config =
        ConfigFactory.parseString(
                "akka.remote.artery.canonical.port = "
                    + FreePorts.freePort()
                    + "\n"
                    + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                    + "akka.loglevel = WARNING\n"
                    + "akka.coordinated-shutdown.exit-jvm = off\n"
                    + "shrivenquant.engine.instruments = [{ symbol = HOT, reference-price = 10000 }]")
            .withFallback(db.akkaPersistenceJdbcConfig())
            .withFallback(ConfigFactory.load());
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    CompletableFuture<Void> started = new CompletableFuture<>();
    ActorSystem<PlaceReply> system =
        ActorSystem.create(driver(config, window, done, failed, started), "hot", config);
    try {
      akka.cluster.typed.Cluster.get(system)
          .manager()
          .tell(
              akka.cluster.typed.Join.create(
                  akka.cluster.typed.Cluster.get(system).selfMember().address()));
      started.get(60, TimeUnit.SECONDS);
      Thread.sleep(warmupSeconds * 1000L);
      long from = done.get();
      long start = System.nanoTime();
      Thread.sleep(seconds * 1000L);
      double elapsed = (System.nanoTime() - start) / 1e9;
      long orders = done.get() - from;
      return new Result(orders, elapsed, orders / elapsed, failed.get());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** Keeps `window` orders in flight: each answer sends the next order. */
  private static Behavior<PlaceReply> driver(
      Config config,
      int window,
      AtomicLong done,
      AtomicLong failed,
      CompletableFuture<Void> started) {
    return Behaviors.<PlaceReply>setup(
        ctx -> {
          ActorRef<ShardingEnvelope<Command>> region =
              InstrumentEntity.init(ctx.getSystem(), EngineSettings.fromConfig(config));
          long[] next = {0};
          Runnable send =
              () -> {
                long i = next[0]++;
                OrderRequest r =
                    OrderRequest.limit(
                        "acct-" + (i % 50),
                        "hot-" + i,
                        i % 2 == 0 ? Side.BUY : Side.SELL,
                        10_000 + (i % 7) - 3,
                        1 + i % 5,
                        i % 10 == 0 ? TimeInForce.IOC : TimeInForce.GTC);
                region.tell(new ShardingEnvelope<>("HOT", new Place(r, ctx.getSelf())));
              };
          for (int i = 0; i < window; i++) send.run();
          return Behaviors.receiveMessage(
              reply -> {
                if (!started.isDone()) started.complete(null);
                if (reply instanceof Placed) done.incrementAndGet();
                else failed.incrementAndGet();
                send.run();
                return Behaviors.same();
              });
        });
  }

  /** {@code bin/shrivenquant bench hot [window] [seconds]}: this measurement alone. */
  public static void main(String[] args) throws Exception {
    int window = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    try (LocalPostgres postgres =
        LocalPostgres.builder().name("hot-postgres").durable(true).start()) {
      LocalPostgres.Database db = postgres.createDatabase("shrivenquant");
      com.shrivenquant.engine.persistence.JournalSchema.migrate(db.dataSource());
      Result r = run(db, window, 10, seconds);
      System.out.printf(
          "one hot instrument, %d in flight: %.0f orders/s over %.0f s (%d not placed)%n",
          window, r.ordersPerSecond(), r.seconds(), r.placedFailures());
    }
  }

  private HotInstrumentCapacity() {}
}
