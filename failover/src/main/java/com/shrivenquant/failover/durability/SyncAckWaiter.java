package com.shrivenquant.failover.durability;

import com.shrivenquant.replication.publish.PublisherPosition;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * {@code sync} durability: an acknowledgement is released only once every journal row committed
 * before it is durable in the standby region's Kafka. Each waiting ack is pinned to the journal's
 * head as read *after* it registered (its own event is committed, so its ordering is at or below
 * that head) and released when the publisher's acknowledged position reaches the head. One query
 * per poll serves all waiting acks of the node.
 */
public final class SyncAckWaiter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SyncAckWaiter.class);

  private record Waiting(CompletableFuture<Void> done, long deadlineNanos) {}

  private final PublisherPosition position;
  private final Duration timeout;
  private final ScheduledExecutorService poller;
  private List<Waiting> fresh = new ArrayList<>();
  private final List<PinnedWait> pinned = new ArrayList<>();

  private record PinnedWait(Waiting w, long head) {}

  public SyncAckWaiter(
      DataSource regionDb, String publisherId, Duration pollInterval, Duration timeout) {
    this.position = new PublisherPosition(regionDb, publisherId);
    this.timeout = timeout;
    this.poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sync-ack-waiter");
              t.setDaemon(true);
              return t;
            });
    poller.scheduleWithFixedDelay(
        this::poll, pollInterval.toNanos(), pollInterval.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Completes when everything committed so far is durable in the standby's Kafka. */
  public CompletionStage<Void> awaitDurable() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    synchronized (this) {
      fresh.add(new Waiting(f, System.nanoTime() + timeout.toNanos()));
    }
    return f;
  }

  private void poll() {
    List<Waiting> registered;
    synchronized (this) {
      if (fresh.isEmpty() && pinned.isEmpty()) return;
      registered = fresh;
      fresh = new ArrayList<>();
    }
    long head;
    long published;
    try {
      PublisherPosition.Progress p = position.progress();
      head = p.journalHead();
      published = p.publishedUpTo();
    } catch (SQLException e) {
      synchronized (this) {
        fresh.addAll(0, registered); // pin them at the next successful poll
      }
      log.debug("Sync durability poll failed: {}", e.getMessage());
      expire();
      return;
    }
    for (Waiting w : registered) pinned.add(new PinnedWait(w, head));
    pinned.removeIf(
        p -> {
          if (published >= p.head()) {
            p.w().done().complete(null);
            return true;
          }
          return false;
        });
    expire();
  }

  private void expire() {
    long now = System.nanoTime();
    synchronized (this) {
      fresh.removeIf(
          w -> {
            if (now > w.deadlineNanos()) {
              w.done()
                  .completeExceptionally(
                      new TimeoutException("region database unreachable for " + timeout));
              return true;
            }
            return false;
          });
    }
    pinned.removeIf(
        p -> {
          if (now > p.w().deadlineNanos()) {
            p.w()
                .done()
                .completeExceptionally(
                    new TimeoutException("not durable in the standby region within " + timeout));
            return true;
          }
          return false;
        });
  }

  @Override
  public void close() {
    poller.shutdownNow();
  }
}
