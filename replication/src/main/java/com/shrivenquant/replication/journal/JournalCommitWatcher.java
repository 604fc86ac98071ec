package com.shrivenquant.replication.journal;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the publisher that journal rows committed, as they commit: {@code LISTEN} on the channel
 * the journal's insert trigger notifies (replication migration V3). PostgreSQL delivers a
 * notification only after its transaction committed, so a read started after it sees the rows.
 *
 * <p>Each notification bumps a version; a reader notes the version before it reads and, having
 * found nothing, waits for a later one ({@link #awaitChange}), so a commit between its read and its
 * wait is never missed. The listening connection is one of the pool's, held while the watcher runs;
 * when it breaks, the watcher reconnects and bumps the version (anything may have committed
 * meanwhile). Waits also end after a bound the caller gives: the safety net, not the path.
 */
public final class JournalCommitWatcher implements AutoCloseable {
  public static final String CHANNEL = "sq_journal_committed";
  private static final Logger log = LoggerFactory.getLogger(JournalCommitWatcher.class);
  private static final int BLOCK_MILLIS = 500;

  private final DataSource dataSource;
  private final Thread thread;
  private volatile boolean running = true;
  private long version;
  private CompletableFuture<Void> next = new CompletableFuture<>();

  public JournalCommitWatcher(DataSource dataSource, String name) {
    this.dataSource = dataSource;
    this.thread = new Thread(this::run, "journal-commit-watcher-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  /** The number of commits seen so far (not exact: one notification may stand for several). */
  public synchronized long version() {
    return version;
  }

  /**
   * Completes once a commit after {@code seen} was notified, or after {@code atMost}, whichever
   * comes first.
   */
  public CompletionStage<Void> awaitChange(long seen, Duration atMost) {
    CompletableFuture<Void> f;
    synchronized (this) {
      if (version > seen) return CompletableFuture.completedFuture(null);
      f = next;
    }
    // Our own future: a timeout must not complete the shared one (that would wake every later
    // wait).
    CompletableFuture<Void> mine = new CompletableFuture<>();
    f.thenRun(() -> mine.complete(null));
    return mine.completeOnTimeout(null, atMost.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void bump() {
    CompletableFuture<Void> done;
    synchronized (this) {
      version++;
      done = next;
      next = new CompletableFuture<>();
    }
    done.complete(null);
  }

  private void run() {
    long backoffMillis = 100;
    while (running) {
      try (Connection c = dataSource.getConnection()) {
        try (Statement s = c.createStatement()) {
          s.execute("LISTEN " + CHANNEL);
        }
        c.setAutoCommit(true);
        PGConnection pg = c.unwrap(PGConnection.class);
        bump(); // commits between the last notification seen and this LISTEN
        backoffMillis = 100;
        while (running) {
          PGNotification[] n = pg.getNotifications(BLOCK_MILLIS);
          if (n != null && n.length > 0) bump();
          else if (!c.isValid(1)) throw new SQLException("listening connection no longer valid");
        }
      } catch (SQLException | RuntimeException e) {
        if (!running) return;
        log.warn(
            "Not listening for journal commits ({}); the publisher falls back to its idle re-check"
                + " until the connection is back",
            e.toString());
        try {
          Thread.sleep(backoffMillis);
        } catch (InterruptedException ie) {
          return;
        }
        backoffMillis = Math.min(5_000, backoffMillis * 2);
      }
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
