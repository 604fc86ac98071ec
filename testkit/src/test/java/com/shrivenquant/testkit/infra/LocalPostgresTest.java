package com.shrivenquant.testkit.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.testkit.infra.LocalPostgres.Database;
import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalPostgresTest {

  @Test
  void startsAndAnswersQueriesAsTheDatabaseOwner() throws Exception {
    try (LocalPostgres pg = LocalPostgres.start()) {
      Database db = pg.createDatabase("orders");
      assertEquals("jdbc:postgresql://127.0.0.1:" + pg.port() + "/orders", db.jdbcUrl());
      assertEquals(db.jdbcUrl(), pg.jdbcUrl("orders"));

      execute(db.dataSource(), "CREATE TABLE t (id int primary key)");
      execute(db.dataSource(), "INSERT INTO t VALUES (1), (2)");
      assertEquals("2", query(db.dataSource(), "SELECT count(*) FROM t"));
      assertEquals("orders", query(db.dataSource(), "SELECT current_user"));
      assertEquals(
          "orders",
          query(db.dataSource(), "SELECT tableowner FROM pg_tables WHERE tablename = 't'"));
      assertTrue(query(db.dataSource(), "SHOW server_version").startsWith("14."));
      assertEquals(db, pg.createDatabase("orders"), "idempotent");
    }
  }

  @Test
  void postmasterPidIsTheParentOfItsBackends() throws Exception {
    try (LocalPostgres pg = LocalPostgres.start()) {
      long postmaster = pg.postmasterPid();
      assertEquals(postmaster, pg.postmasterPid(), "stable");
      ProcessHandle handle = ProcessHandle.of(postmaster).orElseThrow();
      assertTrue(handle.isAlive());
      long backend = Long.parseLong(query(pg.adminDataSource(), "SELECT pg_backend_pid()"));
      assertNotEquals(postmaster, backend);
      assertTrue(handle.children().count() > 0, "helper processes: checkpointer, WAL writer");
      // Linux: the postmaster's command name, as the kernel has it
      assertEquals(
          "(postgres)",
          Files.readString(Path.of("/proc", Long.toString(postmaster), "stat")).split(" ")[1]);
    }
  }

  @Test
  void severalServersRunAtOnce() throws Exception {
    CompletableFuture<LocalPostgres> region1 =
        CompletableFuture.supplyAsync(() -> LocalPostgres.builder().name("region-1").start());
    CompletableFuture<LocalPostgres> region2 =
        CompletableFuture.supplyAsync(() -> LocalPostgres.builder().name("region-2").start());
    try (LocalPostgres a = region1.join();
        LocalPostgres b = region2.join()) {
      assertNotEquals(a.port(), b.port());
      Database dbA = a.createDatabase("journal");
      Database dbB = b.createDatabase("journal");
      execute(dbA.dataSource(), "CREATE TABLE only_in_a (x int)");
      assertEquals(
          "1",
          query(dbA.dataSource(), "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"));
      assertEquals(
          "0",
          query(dbB.dataSource(), "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"));
      assertTrue(Files.exists(a.logFile()) && a.logFile().endsWith("region-1.log"));
    }
  }

  @Test
  void keptDataDirectorySurvivesRestart(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("pgdata");
    try (LocalPostgres pg = LocalPostgres.builder().name("kept").dataDirectory(data).start()) {
      execute(
          pg.createDatabase("kept").dataSource(),
          "CREATE TABLE survivor (x int); INSERT INTO survivor VALUES (42)");
    }
    try (LocalPostgres pg = LocalPostgres.builder().name("kept").dataDirectory(data).start()) {
      assertEquals("42", query(pg.createDatabase("kept").dataSource(), "SELECT x FROM survivor"));
    }
    assertTrue(Files.exists(data.resolve("PG_VERSION")));
  }

  @Test
  void restartTakesOverTheDataDirectoryOfAPostmasterOrphanedByAKilledJvm(@TempDir Path dir)
      throws Exception {
    Path data = dir.resolve("pgdata");
    ChildJvm launcher =
        ChildJvm.builder("postgres-launcher", ChildJvmTestMain.class)
            .args("postgres", data.toString())
            .start();
    launcher.awaitLogLine(
        java.util.regex.Pattern.compile("^postgres ready"), java.time.Duration.ofSeconds(60));
    long orphan = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
    launcher.kill9();
    assertTrue(
        ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false),
        "postmaster outlived its JVM");

    try (LocalPostgres pg = LocalPostgres.builder().name("adopter").dataDirectory(data).start()) {
      assertEquals("1", query(pg.adminDataSource(), "SELECT 1"));
      assertFalse(
          ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false), "orphan was stopped");
    }
  }

  @Test
  void akkaPersistenceJdbcConfigPointsTheSharedSlickDatabaseHere() {
    Database db = new Database("j", "jdbc:postgresql://127.0.0.1:5/j", "u", "p");
    Config c =
        db.akkaPersistenceJdbcConfig(4).getConfig("akka-persistence-jdbc.shared-databases.slick");
    assertEquals("slick.jdbc.PostgresProfile$", c.getString("profile"));
    assertEquals(db.jdbcUrl(), c.getString("db.url"));
    assertEquals("u", c.getString("db.user"));
    assertEquals("p", c.getString("db.password"));
    assertEquals("org.postgresql.Driver", c.getString("db.driver"));
    assertEquals(4, c.getInt("db.numThreads"));
    assertEquals(4, c.getInt("db.maxConnections"));
    assertEquals(2, c.getInt("db.minConnections"));
  }

  static void execute(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  static String query(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
