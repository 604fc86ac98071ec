package com.shrivenquant.failover.durability;

import akka.actor.Cancellable;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.pubsub.Topic;
import java.time.Duration;

/**
 * The region coordinator's side of {@code sync} acknowledgements: tells every node of the region
 * how far the broker has acknowledged the journal, as soon as it has. Pub-sub delivers at most
 * once, and a node that joined late has seen nothing: the latest position is repeated every {@code
 * republishInterval}, which only such a node ever waits for.
 */
public final class DurablePositionPublisher implements AutoCloseable {
  private final String region;
  private final ActorRef<Topic.Command<DurablePosition>> topic;
  private final Cancellable repeating;
  private volatile DurablePosition last;

  public DurablePositionPublisher(
      ActorSystem<?> system,
      String region,
      ActorRef<Topic.Command<DurablePosition>> topic,
      Duration republishInterval) {
    this.region = region;
    this.topic = topic;
    this.repeating =
        system
            .scheduler()
            .scheduleAtFixedRate(
                republishInterval,
                republishInterval,
                () -> {
                  DurablePosition p = last;
                  if (p != null) topic.tell(Topic.publish(p));
                },
                system.executionContext());
  }

  /** The publisher in {@code epoch} has the broker's ack for every row up to {@code upTo}. */
  public void acknowledged(long epoch, long upTo) {
    DurablePosition p = new DurablePosition(region, epoch, upTo);
    last = p;
    topic.tell(Topic.publish(p));
  }

  @Override
  public void close() {
    repeating.cancel();
  }
}
