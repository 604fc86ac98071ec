package com.shrivenquant.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.shrivenquant.testkit.infra.LocalPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Eight starters released at once migrate one fresh (empty) database, configured as every schema of
 * the node is (own history table, baseline on migrate at 0): all succeed and each migration runs
 * once. Twenty rounds, each on a new database.
 */
class MigrationsIT {
  static final int ROUNDS = 20;
  static final int STARTERS = 8;
  static LocalPostgres postgres;

  @BeforeAll
  static void start() {
    postgres = LocalPostgres.start();
  }

  @AfterAll
  static void stop() {
    if (postgres != null) postgres.close();
  }

  @Test
  void startersReleasedAtOnceAllMigrate() throws Exception {
    List<String> failures = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(STARTERS);
    try {
      for (int round = 1; round <= ROUNDS; round++) {
        LocalPostgres.Database db = postgres.createDatabase("race_" + round);
        CyclicBarrier together = new CyclicBarrier(STARTERS);
        List<Future<?>> starts = new ArrayList<>();
        for (int i = 0; i < STARTERS; i++) {
          starts.add(
              pool.submit(
                  () -> {
                    together.await();
                    Migrations.migrate(
                        flyway(db, "flyway_history_race", "classpath:db/migration/race"));
                    return null;
                  }));
        }
        for (Future<?> s : starts) {
          try {
            s.get(60, TimeUnit.SECONDS);
          } catch (ExecutionException e) {
            failures.add("round " + round + ": " + e.getCause());
          }
        }
        List<String> history = history(db, "flyway_history_race");
        if (!history.equals(List.of("1|race", "2|race"))) {
          failures.add(
              "round " + round + ": history " + history + ", not each migration applied once");
        }
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of(), failures, failures.size() + " problems in " + ROUNDS + " rounds");
  }

  private static FluentConfiguration flyway(
      LocalPostgres.Database db, String table, String location) {
    return Flyway.configure()
        .dataSource(db.jdbcUrl(), db.user(), db.password())
        .locations(location)
        .table(table)
        .baselineOnMigrate(true)
        .baselineVersion("0");
  }

  private static List<String> history(LocalPostgres.Database db, String table) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT version, description FROM " + table + " ORDER BY installed_rank")) {
      while (rs.next()) rows.add(rs.getString(1) + "|" + rs.getString(2));
    }
    return rows;
  }
}
