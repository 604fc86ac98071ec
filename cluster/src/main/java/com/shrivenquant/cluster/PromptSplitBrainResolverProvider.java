package com.shrivenquant.cluster;

import akka.actor.AbstractActorWithTimers;
import akka.actor.ActorRef;
import akka.actor.ActorSystem;
import akka.actor.Props;
import akka.cluster.DowningProvider;
import akka.cluster.sbr.SplitBrainResolverProvider;
import java.time.Duration;
import scala.Option;
import scala.concurrent.duration.FiniteDuration;

/**
 * Akka's split-brain resolver, unchanged (same settings, same strategies), asked for its decision
 * every {@code shrivenquant.node.split-brain-resolver.decision-interval} instead of every second.
 *
 * <p>Akka 2.6's resolver checks "the unreachable set has been stable for stable-after" only on a
 * fixed 1 s tick, so with stable-after 1 s a crashed node is downed 1 to 2 s after it became
 * unreachable. More frequent ticks make that 1.0 to 1.1 s without shortening stable-after, i.e.
 * without downing a node that stalls for a shorter time than today. A tick only compares clocks, so
 * the extra ones change no decision.
 */
public final class PromptSplitBrainResolverProvider extends DowningProvider {
  /** The resolver's own tick message (an internal Scala object; Akka is pinned to 2.6.21). */
  static final Object RESOLVER_TICK = akka.cluster.sbr.SplitBrainResolver.Tick$.MODULE$;

  private final SplitBrainResolverProvider akkaProvider;
  private final Duration decisionInterval;

  public PromptSplitBrainResolverProvider(ActorSystem system) {
    this.akkaProvider = new SplitBrainResolverProvider(system);
    this.decisionInterval =
        system
            .settings()
            .config()
            .getDuration("shrivenquant.node.split-brain-resolver.decision-interval");
  }

  @Override
  public FiniteDuration downRemovalMargin() {
    return akkaProvider.downRemovalMargin();
  }

  @Override
  public Option<Props> downingActorProps() {
    Option<Props> resolver = akkaProvider.downingActorProps();
    if (resolver.isEmpty()) return resolver;
    return Option.apply(Props.create(Ticker.class, resolver.get(), decisionInterval));
  }

  /** Parent of Akka's resolver actor; forwards a tick to it every decision interval. */
  static final class Ticker extends AbstractActorWithTimers {
    private final ActorRef resolver;

    Ticker(Props resolverProps, Duration interval) {
      this.resolver = getContext().actorOf(resolverProps, "resolver");
      getTimers().startTimerWithFixedDelay("tick", RESOLVER_TICK, interval);
    }

    @Override
    public Receive createReceive() {
      return receiveBuilder().matchEquals(RESOLVER_TICK, t -> resolver.tell(t, getSelf())).build();
    }
  }
}
