package com.shrivenquant.replication.publish;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.concurrent.ExecutionContextExecutor;

/**
 * Keeps the publisher's acknowledged position: in memory at once (what acknowledgements are
 * released on), in the region's database for restarts at most once per {@code interval}, off the
 * acknowledgement's path. A stored position lags the acknowledged one by up to an interval; a
 * restart re-publishes that much and the applier keeps the first copy of each row. The orderings
 * proven never to exist are stored with the position that passed them.
 */
final class PositionRecorder {
  private static final Logger log = LoggerFactory.getLogger(PositionRecorder.class);

  private final PublisherPosition position;
  private final Duration interval;
  private final ActorSystem<?> system;
  private final ExecutionContextExecutor blocking;
  private final Object storing = new Object();

  private long acknowledged;
  private List<Long> unstoredSkipped = new ArrayList<>();
  private boolean scheduled;
  private long stored;

  PositionRecorder(ActorSystem<?> system, PublisherPosition position, Duration interval) {
    this.system = system;
    this.position = position;
    this.interval = interval;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
  }

  /** The broker acknowledged every row up to {@code upTo}; {@code skipped} never existed. */
  synchronized void acknowledged(long upTo, List<Long> skipped) {
    acknowledged = Math.max(acknowledged, upTo);
    unstoredSkipped.addAll(skipped);
    scheduleStore();
  }

  private void scheduleStore() {
    if (scheduled) return;
    try {
      system.scheduler().scheduleOnce(interval, this::store, blocking);
      scheduled = true;
    } catch (IllegalStateException terminating) {
      // the actor system is shutting down: the stopping publisher flushes what is pending
    }
  }

  /**
   * Where a (re)started stream begins: the stored position, or the acknowledged one if further.
   * Everything up to it is in the broker, so it counts as acknowledged from now on.
   */
  synchronized long resumeFrom(long storedPosition) {
    acknowledged = Math.max(acknowledged, storedPosition);
    return acknowledged;
  }

  synchronized long acknowledged() {
    return acknowledged;
  }

  /** Stores what is pending now (a stopping publisher, a switchover handing over). */
  void flush() {
    store();
  }

  private void store() {
    long upTo;
    List<Long> skipped;
    synchronized (this) {
      scheduled = false;
      upTo = acknowledged;
      skipped = unstoredSkipped;
      unstoredSkipped = new ArrayList<>();
    }
    synchronized (storing) {
      if (upTo <= stored && skipped.isEmpty()) return;
      try {
        position.save(upTo, skipped);
        stored = Math.max(stored, upTo);
      } catch (SQLException e) {
        log.warn("Could not store the publisher position {} (retrying): {}", upTo, e.toString());
        synchronized (this) {
          unstoredSkipped.addAll(0, skipped);
          scheduleStore();
        }
      }
    }
  }
}
