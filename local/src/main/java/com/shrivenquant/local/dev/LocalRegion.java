package com.shrivenquant.local.dev;

import com.shrivenquant.engine.persistence.JournalSchema;
import com.shrivenquant.local.NodeProcess;
import com.shrivenquant.testkit.infra.ChildJvm;
import com.shrivenquant.testkit.infra.LocalPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One region on this machine: an embedded PostgreSQL (durable: fsync and synchronous commit on) and
 * N nodes as real child processes forming one cluster. Used by dev mode and the benchmarks.
 */
public final class LocalRegion implements AutoCloseable {
  private final LocalPostgres postgres;
  private final LocalPostgres.Database database;
  private final LocalClusterLayout layout;
  private final List<ChildJvm> nodes = new ArrayList<>();

  private LocalRegion(
      LocalPostgres postgres, LocalPostgres.Database database, LocalClusterLayout layout) {
    this.postgres = postgres;
    this.database = database;
    this.layout = layout;
  }

  /** Starts PostgreSQL and the nodes and waits until every node is ready. */
  public static LocalRegion start(
      String name,
      int nodeCount,
      Path workDir,
      List<String> nodeJvmOptions,
      Map<String, String> settings)
      throws InterruptedException {
    Path logs = workDir.resolve("logs");
    LocalPostgres postgres =
        LocalPostgres.builder().name(name + "-postgres").durable(true).logDirectory(logs).start();
    LocalRegion region = null;
    try {
      LocalPostgres.Database db = postgres.createDatabase("shrivenquant");
      JournalSchema.migrate(db.dataSource());
      LocalClusterLayout layout =
          LocalClusterLayout.allocate(
              nodeCount, new LocalClusterLayout.Journal(db.jdbcUrl(), db.user(), db.password()));
      settings.forEach(layout::with);
      region = new LocalRegion(postgres, db, layout);
      for (int i = 0; i < nodeCount; i++) {
        region.nodes.add(
            NodeProcess.builder(name + "-node-" + (i + 1))
                .jvmOptions(nodeJvmOptions.toArray(String[]::new))
                .systemProperties(layout.systemProperties(i))
                .logDirectory(logs)
                .start());
      }
      layout.awaitReady(Duration.ofSeconds(120));
      return region;
    } catch (RuntimeException | InterruptedException e) {
      if (region != null) region.close();
      else postgres.close();
      throw e;
    }
  }

  public LocalClusterLayout layout() {
    return layout;
  }

  public LocalPostgres.Database database() {
    return database;
  }

  public List<ChildJvm> nodes() {
    return nodes;
  }

  /** Stops the nodes (SIGTERM, then SIGKILL after a grace period) and keeps PostgreSQL running. */
  public void stopNodes() {
    nodes.parallelStream().forEach(n -> n.stop(Duration.ofSeconds(15)));
    nodes.clear();
  }

  @Override
  public void close() {
    stopNodes();
    postgres.close();
  }
}
