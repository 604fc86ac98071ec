package com.shrivenquant.bench.load;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * The physical limit the journal is compared with: the same journal rows (copied from what the
 * engine wrote in this run) inserted with plain JDBC batches, N rows per transaction, from as many
 * connections as a node's journal pool, into a table shaped like the journal.
 */
final class RawInsertBaseline {
  record Result(long rows, double seconds, double rowsPerSecond) {}

  private record Row(int serId, String manifest, byte[] payload, String writer) {}

  static Result run(DataSource ds, int connections, int rowsPerTransaction, int seconds)
      throws Exception {
    List<Row> sample = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS raw_journal");
      s.execute("CREATE TABLE raw_journal (LIKE event_journal INCLUDING ALL)");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT event_ser_id, event_ser_manifest, event_payload, writer FROM event_journal"
                  + " ORDER BY ordering DESC LIMIT 10000")) {
        while (rs.next())
          sample.add(new Row(rs.getInt(1), rs.getString(2), rs.getBytes(3), rs.getString(4)));
      }
    }
    if (sample.isEmpty()) throw new IllegalStateException("no journal rows to copy");
    AtomicLong inserted = new AtomicLong();
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    List<Thread> threads = new ArrayList<>();
    List<Exception> failures = new ArrayList<>();
    long start = System.nanoTime();
    for (int t = 0; t < connections; t++) {
      int writer = t;
      Thread thread =
          new Thread(
              () -> {
                try (Connection c = ds.getConnection();
                    PreparedStatement ps =
                        c.prepareStatement(
                            "INSERT INTO raw_journal (persistence_id, sequence_number, writer, write_timestamp,"
                                + " adapter_manifest, event_ser_id, event_ser_manifest, event_payload)"
                                + " VALUES (?, ?, ?, ?, '', ?, ?, ?)")) {
                  c.setAutoCommit(false);
                  long seq = 0;
                  while (System.nanoTime() < deadline) {
                    for (int i = 0; i < rowsPerTransaction; i++) {
                      Row row = sample.get((int) (seq % sample.size()));
                      ps.setString(1, "Raw|" + writer);
                      ps.setLong(2, ++seq);
                      ps.setString(3, row.writer());
                      ps.setLong(4, System.currentTimeMillis());
                      ps.setInt(5, row.serId());
                      ps.setString(6, row.manifest());
                      ps.setBytes(7, row.payload());
                      ps.addBatch();
                    }
                    ps.executeBatch();
                    c.commit();
                    inserted.addAndGet(rowsPerTransaction);
                  }
                } catch (SQLException e) {
                  synchronized (failures) {
                    failures.add(e);
                  }
                }
              },
              "raw-insert-" + t);
      threads.add(thread);
      thread.start();
    }
    for (Thread t : threads) t.join();
    if (!failures.isEmpty()) throw failures.get(0);
    double elapsed = (System.nanoTime() - start) / 1e9;
    return new Result(inserted.get(), elapsed, inserted.get() / elapsed);
  }

  private RawInsertBaseline() {}
}
