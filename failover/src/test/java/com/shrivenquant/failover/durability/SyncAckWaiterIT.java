package com.shrivenquant.failover.durability;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import akka.actor.typed.ActorRef;
import akka.actor.typed.pubsub.Topic;
import com.shrivenquant.engine.persistence.JournalSchema;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.TestJournals;
import com.shrivenquant.replication.ReplicationSchema;
import com.shrivenquant.replication.publish.PublisherPosition;
import com.shrivenquant.testkit.ActorTestKitExtension;
import com.shrivenquant.testkit.PostgresExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node's side of {@code sync} acknowledgements on a real PostgreSQL journal: an ack is released
 * by the publisher's announced position once it covers the journal head read after the ack
 * registered, never before; announcements of an older publisher epoch are ignored; the stored
 * position is the fallback for an ack that missed its announcement; an ack never made durable
 * fails.
 */
class SyncAckWaiterIT {
  private static final String REGION = "region-1";

  @RegisterExtension
  static final PostgresExtension postgres =
      new PostgresExtension(
          "region",
          ds -> {
            JournalSchema.migrate(ds);
            ReplicationSchema.migrate(ds);
          });

  @RegisterExtension static final ActorTestKitExtension kit = new ActorTestKitExtension();

  // Long enough that nothing below is released by the fallback or timed out by accident.
  private static final FailoverSettings.SyncAck NO_FALLBACK =
      new FailoverSettings.SyncAck(
          Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofMinutes(5));

  @Test
  void anAckIsReleasedOnlyByAPositionAtOrPastTheHeadItWasPinnedTo() throws Exception {
    ActorRef<Topic.Command<DurablePosition>> topic = topic("release");
    try (SyncAckWaiter waiter =
        new SyncAckWaiter(kit.system(), postgres.dataSource(), REGION, topic, NO_FALLBACK)) {
      TestJournals.events(postgres.dataSource(), REGION, "Instrument|A", 1, 3);
      long head = head();
      CompletableFuture<Void> ack = waiter.awaitDurable().toCompletableFuture();

      announce(topic, 1, head - 1);
      assertStillWaiting(ack, "one row short of the head");

      announce(topic, 1, head);
      ack.get(30, TimeUnit.SECONDS);

      // A position already announced releases a later ack as soon as its head is read.
      announce(topic, 1, head + 1000);
      waiter.awaitDurable().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void anOlderEpochsPositionIsIgnoredAndANewerEpochStartsOver() throws Exception {
    ActorRef<Topic.Command<DurablePosition>> topic = topic("epochs");
    try (SyncAckWaiter waiter =
        new SyncAckWaiter(kit.system(), postgres.dataSource(), REGION, topic, NO_FALLBACK)) {
      announce(topic, 5, 1);
      TestJournals.events(postgres.dataSource(), REGION, "Instrument|B", 1, 2);
      long head = head();
      CompletableFuture<Void> ack = waiter.awaitDurable().toCompletableFuture();

      announce(topic, 4, head + 1000); // a demoted publisher's late message
      assertStillWaiting(ack, "a position of an older epoch");

      announce(topic, 6, head);
      ack.get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void anAckThatMissedItsAnnouncementReadsTheStoredPositionAndOneNeverDurableFails()
      throws Exception {
    ActorRef<Topic.Command<DurablePosition>> topic = topic("fallback");
    FailoverSettings.SyncAck quick =
        new FailoverSettings.SyncAck(
            Duration.ofSeconds(1), Duration.ofMillis(300), Duration.ofSeconds(3));
    try (SyncAckWaiter waiter =
        new SyncAckWaiter(kit.system(), postgres.dataSource(), REGION, topic, quick)) {
      TestJournals.events(postgres.dataSource(), REGION, "Instrument|C", 1, 1);
      long head = head();
      CompletableFuture<Void> ack = waiter.awaitDurable().toCompletableFuture();
      new PublisherPosition(postgres.dataSource(), REGION).save(head, List.of());
      ack.get(30, TimeUnit.SECONDS); // no announcement: the stored position released it

      TestJournals.events(postgres.dataSource(), REGION, "Instrument|C", 2, 2);
      CompletableFuture<Void> never = waiter.awaitDurable().toCompletableFuture();
      ExecutionException failed =
          org.junit.jupiter.api.Assertions.assertThrows(
              ExecutionException.class, () -> never.get(30, TimeUnit.SECONDS));
      assertInstanceOf(TimeoutException.class, failed.getCause());
    }
  }

  private static ActorRef<Topic.Command<DurablePosition>> topic(String name) {
    return kit.spawn(Topic.create(DurablePosition.class, "test-" + name), "topic-" + name);
  }

  private static void announce(
      ActorRef<Topic.Command<DurablePosition>> topic, long epoch, long upTo) {
    topic.tell(Topic.publish(new DurablePosition(REGION, epoch, upTo)));
  }

  private static long head() throws Exception {
    try (var c = postgres.dataSource().getConnection()) {
      return PublisherPosition.journalHead(c);
    }
  }

  // Absence can only be shown over a while: long enough for the message and a head read to land.
  private static void assertStillWaiting(CompletableFuture<Void> ack, String why)
      throws InterruptedException {
    Thread.sleep(500);
    assertFalse(ack.isDone(), "released by " + why);
  }
}
