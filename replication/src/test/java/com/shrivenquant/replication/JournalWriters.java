package com.shrivenquant.replication;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * Concurrent journal writers as the tests need them: each its own persistence id and connection,
 * transactions of 1..maxRows rows that hold their sequence values for a random pause (so commits
 * come out of ordering order), one in twenty rolled back and written again.
 */
public final class JournalWriters {
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Thread> threads = new ArrayList<>();
  private final List<Throwable> failures = new ArrayList<>();

  /**
   * @param transactions per writer, or 0 to write until {@link #stopAndJoin}
   * @param holdMillis upper bound of the pause inside each transaction
   */
  public static JournalWriters start(
      DataSource ds, int writers, int maxRows, int transactions, int holdMillis) {
    JournalWriters w = new JournalWriters();
    for (int i = 0; i < writers; i++) {
      int writer = i;
      Thread t =
          new Thread(() -> w.write(ds, writer, maxRows, transactions, holdMillis), "writer-" + i);
      w.threads.add(t);
      t.start();
    }
    return w;
  }

  private void write(DataSource ds, int writer, int maxRows, int transactions, int holdMillis) {
    SplittableRandom random = new SplittableRandom(writer);
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(JournalFixtures.INSERT)) {
      c.setAutoCommit(false);
      long seq = 0;
      for (int tx = 0; running.get() && (transactions == 0 || tx < transactions); tx++) {
        int n = 1 + random.nextInt(maxRows);
        for (int i = 1; i <= n; i++) {
          byte[] payload = new byte[16 + random.nextInt(200)];
          random.nextBytes(payload);
          JournalFixtures.addRow(ps, "writer-" + writer, seq + i, payload);
        }
        ps.executeBatch();
        Thread.sleep(
            random.nextInt(holdMillis + 1)); // holds its sequence values while others commit
        if (random.nextInt(20) == 0) {
          c.rollback(); // the same sequence numbers are written again next time
        } else {
          c.commit();
          seq += n;
        }
      }
    } catch (Throwable e) {
      synchronized (failures) {
        failures.add(e);
      }
    }
  }

  /** Waits for writers with a transaction count to finish. */
  public List<Throwable> join() throws InterruptedException {
    for (Thread t : threads) t.join();
    synchronized (failures) {
      return List.copyOf(failures);
    }
  }

  public List<Throwable> stopAndJoin() throws InterruptedException {
    running.set(false);
    return join();
  }
}
