package com.shrivenquant.engine.instrument;

import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import com.shrivenquant.engine.EngineSettings;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.instrument.InstrumentEntity.Cancel;
import com.shrivenquant.engine.instrument.InstrumentEntity.CancelReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.Command;
import com.shrivenquant.engine.instrument.InstrumentEntity.DepthReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.DigestReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetDepth;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetDigest;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetOrder;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetOrderByClientId;
import com.shrivenquant.engine.instrument.InstrumentEntity.GetPosition;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.Place;
import com.shrivenquant.engine.instrument.InstrumentEntity.PlaceReply;
import com.shrivenquant.engine.instrument.InstrumentEntity.PositionReply;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * The engine's face to order-entry front ends: routes each call to its instrument's entity,
 * wherever in the cluster it lives. Callers check {@link #knows} first: an unknown symbol never
 * reaches (or creates) an entity.
 */
public final class OrderEntry {
  private final ClusterSharding sharding;
  private final EngineSettings settings;
  private final Duration timeout;

  public OrderEntry(ActorSystem<?> system, EngineSettings settings) {
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.timeout = settings.askTimeout();
  }

  public static OrderEntry start(ActorSystem<?> system, EngineSettings settings) {
    return start(system, settings, IntakeGate.OPEN);
  }

  public static OrderEntry start(ActorSystem<?> system, EngineSettings settings, IntakeGate gate) {
    InstrumentEntity.init(system, settings, gate);
    return new OrderEntry(system, settings);
  }

  /**
   * Stops every instrument entity running on this node. After the region's journal changed under
   * them (fenced tail set aside, replicated events applied) their memory is stale; the next
   * command recovers each from the journal again.
   */
  public CompletionStage<Integer> stopLocalEntities(ActorSystem<?> system) {
    return akka.actor.typed.javadsl.AskPattern.<akka.cluster.sharding.typed.ClusterShardingQuery,
            akka.cluster.sharding.ShardRegion.CurrentShardRegionState>ask(
            sharding.shardState(),
            replyTo -> new akka.cluster.sharding.typed.GetShardRegionState(InstrumentEntity.TYPE_KEY, replyTo),
            timeout,
            system.scheduler())
        .thenApply(state -> {
          int n = 0;
          for (akka.cluster.sharding.ShardRegion.ShardState shard : state.getShards()) {
            for (String id : shard.getEntityIds()) {
              sharding.entityRefFor(InstrumentEntity.TYPE_KEY, id).tell(InstrumentEntity.Passivate.INSTANCE);
              n++;
            }
          }
          return n;
        });
  }

  public EngineSettings settings() {
    return settings;
  }

  public boolean knows(String symbol) {
    return settings.instrument(symbol).isPresent();
  }

  public CompletionStage<PlaceReply> place(String symbol, OrderRequest request) {
    return place(symbol, request, null);
  }

  /** @param traceParent the caller's trace context ({@link OrderTraces}), null when not traced */
  public CompletionStage<PlaceReply> place(String symbol, OrderRequest request, String traceParent) {
    return ref(symbol).ask(replyTo -> new Place(request, replyTo, traceParent), timeout);
  }

  public CompletionStage<CancelReply> cancel(String symbol, String account, long orderId) {
    return ref(symbol).ask(replyTo -> new Cancel(account, orderId, replyTo), timeout);
  }

  public CompletionStage<OrderReply> order(String symbol, long orderId) {
    return ref(symbol).ask(replyTo -> new GetOrder(orderId, replyTo), timeout);
  }

  public CompletionStage<OrderReply> orderByClientId(
      String symbol, String account, String clientOrderId) {
    return ref(symbol)
        .ask(replyTo -> new GetOrderByClientId(account, clientOrderId, replyTo), timeout);
  }

  public CompletionStage<DepthReply> depth(String symbol, int levels) {
    return ref(symbol).ask(replyTo -> new GetDepth(levels, replyTo), timeout);
  }

  public CompletionStage<PositionReply> position(String symbol, String account) {
    return ref(symbol).ask(replyTo -> new GetPosition(account, replyTo), timeout);
  }

  public CompletionStage<DigestReply> digest(String symbol) {
    return ref(symbol).ask(GetDigest::new, timeout);
  }

  private EntityRef<Command> ref(String symbol) {
    if (!knows(symbol)) throw new IllegalArgumentException("unknown instrument " + symbol);
    return sharding.entityRefFor(InstrumentEntity.TYPE_KEY, symbol);
  }
}
