package com.shrivenquant.replication.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.replication.JournalFixtures;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The publisher's wake-up on a real PostgreSQL: a committed journal insert ends a wait long before
 * its bound; a rolled-back one does not. Without the journal's trigger (replication migration V3)
 * the first wait would run into its bound and the test fail.
 */
class JournalCommitWatcherIT {
  private static final Duration LONG = Duration.ofMinutes(5);

  @RegisterExtension
  static final PostgresExtension postgres =
      new PostgresExtension("region", JournalFixtures::migrate);

  @Test
  void aCommitEndsTheWaitAndARollbackDoesNot() throws Exception {
    try (JournalCommitWatcher watcher = new JournalCommitWatcher(postgres.dataSource(), "test")) {
      // Listening once the first version is out (the watcher bumps it after LISTEN).
      Eventually.await("listening", Duration.ofSeconds(30), () -> watcher.version() >= 1);

      long seen = watcher.version();
      CompletableFuture<Void> waiting = watcher.awaitChange(seen, LONG).toCompletableFuture();
      insert("Instrument|A", 1, false);
      Thread.sleep(500); // absence takes a while to show: the notification would come at once
      assertFalse(waiting.isDone(), "a rolled-back insert notified");
      assertEquals(seen, watcher.version());

      insert("Instrument|A", 1, true);
      waiting.get(30, TimeUnit.SECONDS); // far below LONG: the commit ended it
      assertTrue(watcher.version() > seen);

      // A commit that came before the wait began ends it at once (nothing is missed in between).
      long before = watcher.version();
      insert("Instrument|A", 2, true);
      Eventually.await("notified", Duration.ofSeconds(30), () -> watcher.version() > before);
      assertTrue(watcher.awaitChange(before, LONG).toCompletableFuture().isDone());
    }
  }

  private static void insert(String pid, long seq, boolean commit) throws Exception {
    try (Connection c = postgres.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(JournalFixtures.INSERT)) {
      c.setAutoCommit(false);
      JournalFixtures.addRow(ps, pid, seq, new byte[] {1, 2, 3});
      ps.executeBatch();
      if (commit) c.commit();
      else c.rollback();
    }
  }
}
