package com.shrivenquant.failover.durability;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.pubsub.Topic;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.replication.publish.PublisherPosition;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sync} durability on a node: an acknowledgement is released only once every journal row
 * committed before it is durable in the standby region's Kafka.
 *
 * <p>Each waiting ack is pinned to the journal's head read <em>after</em> it registered (its own
 * event is committed, so its ordering is at or below that head); one read serves every ack that
 * registered while the previous read ran. It is released when a {@link DurablePosition} at or past
 * that head arrives from the region's publisher (pub-sub, {@link DurablePositionPublisher}): no
 * poll on the path. Positions are per publisher epoch; a newer epoch's publisher starts over from
 * its stored position, an older epoch's is ignored. Safety nets, never the path: an ack waiting
 * longer than {@code fallback-after} reads the stored position from the database, and one not
 * durable within {@code timeout} fails.
 */
public final class SyncAckWaiter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SyncAckWaiter.class);
  private static final long TIMER_MILLIS = 50;
  private static final java.util.concurrent.atomic.AtomicInteger INSTANCES =
      new java.util.concurrent.atomic.AtomicInteger();

  private record Waiting(CompletableFuture<Void> done, long sinceNanos) {}

  private record Pinned(Waiting w, long head) {}

  private final DataSource regionDb;
  private final PublisherPosition stored;
  private final FailoverSettings.SyncAck settings;
  private final ScheduledExecutorService reader;
  private final ActorRef<DurablePosition> subscriber;

  // guarded by this
  private List<Waiting> fresh = new ArrayList<>();
  private boolean readPending;
  private final PriorityQueue<Pinned> pinned =
      new PriorityQueue<>(Comparator.comparingLong(Pinned::head));
  private long epoch = -1;
  private long durableUpTo;

  public SyncAckWaiter(
      ActorSystem<?> system,
      DataSource regionDb,
      String region,
      ActorRef<Topic.Command<DurablePosition>> topic,
      FailoverSettings.SyncAck settings) {
    this.regionDb = regionDb;
    this.stored = new PublisherPosition(regionDb, region);
    this.settings = settings;
    this.reader =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sync-ack-waiter");
              t.setDaemon(true);
              return t;
            });
    reader.scheduleWithFixedDelay(
        this::safetyNet, TIMER_MILLIS, TIMER_MILLIS, TimeUnit.MILLISECONDS);
    this.subscriber =
        system.systemActorOf(
            listener(this), "sync-ack-waiter-" + INSTANCES.incrementAndGet(), Props.empty());
    topic.tell(Topic.subscribe(subscriber));
  }

  private static Behavior<DurablePosition> listener(SyncAckWaiter waiter) {
    return Behaviors.receive(DurablePosition.class)
        .onMessage(
            DurablePosition.class,
            p -> {
              waiter.durable(p.epoch(), p.upTo());
              return Behaviors.same();
            })
        .build();
  }

  /** Completes when everything committed so far is durable in the standby's Kafka. */
  public CompletionStage<Void> awaitDurable() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    boolean startRead;
    synchronized (this) {
      fresh.add(new Waiting(f, System.nanoTime()));
      startRead = !readPending;
      readPending = true;
    }
    if (startRead) reader.execute(this::pinFresh);
    return f;
  }

  /** The publisher in {@code publisherEpoch} has the broker's ack for every row up to upTo. */
  void durable(long publisherEpoch, long upTo) {
    List<Waiting> released = new ArrayList<>();
    synchronized (this) {
      if (publisherEpoch > epoch) {
        epoch = publisherEpoch;
        durableUpTo = upTo;
      } else if (publisherEpoch == epoch) {
        durableUpTo = Math.max(durableUpTo, upTo);
      } else {
        return;
      }
      while (!pinned.isEmpty() && pinned.peek().head() <= durableUpTo)
        released.add(pinned.poll().w());
    }
    released.forEach(w -> w.done().complete(null));
  }

  // One head read for every ack registered before it began, until none is left.
  private void pinFresh() {
    while (true) {
      List<Waiting> batch;
      synchronized (this) {
        if (fresh.isEmpty()) {
          readPending = false;
          return;
        }
        batch = fresh;
        fresh = new ArrayList<>();
      }
      long head;
      try (Connection c = regionDb.getConnection()) {
        head = PublisherPosition.journalHead(c);
      } catch (SQLException e) {
        log.debug("Journal head unreadable: {}", e.getMessage());
        synchronized (this) {
          fresh.addAll(0, batch);
          readPending = false; // the safety net retries, and so does the next registration
        }
        return;
      }
      List<Waiting> released = new ArrayList<>();
      synchronized (this) {
        for (Waiting w : batch) {
          if (head <= durableUpTo) released.add(w);
          else pinned.add(new Pinned(w, head));
        }
      }
      released.forEach(w -> w.done().complete(null));
    }
  }

  // Off the path: expiry, a head read that failed, and acks that missed their message.
  private void safetyNet() {
    long now = System.nanoTime();
    long timeout = settings.timeout().toNanos();
    long fallback = settings.fallbackAfter().toNanos();
    List<Waiting> expired = new ArrayList<>();
    boolean retryRead;
    boolean readStored;
    synchronized (this) {
      fresh.removeIf(w -> now - w.sinceNanos() > timeout && expired.add(w));
      pinned.removeIf(p -> now - p.w().sinceNanos() > timeout && expired.add(p.w()));
      retryRead = !fresh.isEmpty() && !readPending;
      if (retryRead) readPending = true;
      readStored = pinned.stream().anyMatch(p -> now - p.w().sinceNanos() > fallback);
    }
    expired.forEach(
        w ->
            w.done()
                .completeExceptionally(
                    new TimeoutException(
                        "not durable in the standby region within " + settings.timeout())));
    if (retryRead) pinFresh();
    if (readStored) {
      try {
        long upTo = stored.load();
        long e;
        synchronized (this) {
          e = epoch;
        }
        durable(e, upTo);
      } catch (SQLException ex) {
        log.debug("Stored publisher position unreadable: {}", ex.getMessage());
      }
    }
  }

  @Override
  public void close() {
    reader.shutdownNow();
  }
}
