package com.shrivenquant.testkit;

import com.shrivenquant.testkit.infra.LocalPostgres;
import com.shrivenquant.testkit.infra.LocalPostgres.Database;
import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL server per test class with one migrated database.
 *
 * <pre>{@code
 * @RegisterExtension static final PostgresExtension postgres = new PostgresExtension(JournalSchema::migrate);
 * @RegisterExtension static final ActorTestKitExtension testKit =
 *     new ActorTestKitExtension(() -> postgres.akkaPersistenceJdbcConfig().withFallback(nodeConfig));
 * }</pre>
 *
 * <p>The migration is whatever the test passes (the testkit knows no schema). Data persists across
 * the tests of a class; clean up with {@link #execute} if a test needs an empty table. The server
 * starts in BeforeAll, or earlier if another extension's BeforeAll asks for it (JUnit orders
 * {@code @RegisterExtension} fields unpredictably unless they carry {@code @Order}).
 */
public final class PostgresExtension extends ClassScopedExtension {

  public static final String DEFAULT_DATABASE = "shrivenquant";

  private final String databaseName;
  private final Consumer<DataSource> migration;
  private final UnaryOperator<LocalPostgres.Builder> server;
  private volatile LocalPostgres postgres;
  private volatile Database database;

  /** An empty database named {@value #DEFAULT_DATABASE}. */
  public PostgresExtension() {
    this(ds -> {});
  }

  public PostgresExtension(Consumer<DataSource> migration) {
    this(DEFAULT_DATABASE, migration);
  }

  public PostgresExtension(String databaseName, Consumer<DataSource> migration) {
    this(databaseName, migration, UnaryOperator.identity());
  }

  /** {@code server} adjusts the server, e.g. {@code b -> b.name("region-1").durable(true)}. */
  public PostgresExtension(
      String databaseName,
      Consumer<DataSource> migration,
      UnaryOperator<LocalPostgres.Builder> server) {
    this.databaseName = Objects.requireNonNull(databaseName);
    this.migration = Objects.requireNonNull(migration);
    this.server = Objects.requireNonNull(server);
  }

  @Override
  protected void start(ExtensionContext context) {
    LocalPostgres started = server.apply(LocalPostgres.builder()).start();
    try {
      Database db = started.createDatabase(databaseName);
      migration.accept(db.dataSource());
      postgres = started;
      database = db;
    } catch (RuntimeException e) {
      started.close();
      throw e;
    }
  }

  @Override
  protected void stop() {
    LocalPostgres pg = postgres;
    postgres = null;
    database = null;
    pg.close();
  }

  public LocalPostgres postgres() {
    ensureStarted();
    return postgres;
  }

  public Database database() {
    ensureStarted();
    return database;
  }

  public DataSource dataSource() {
    return database().dataSource();
  }

  public String jdbcUrl() {
    return database().jdbcUrl();
  }

  public String user() {
    return database().user();
  }

  public String password() {
    return database().password();
  }

  public int port() {
    return postgres().port();
  }

  /**
   * Overrides akka-persistence-jdbc's shared database {@code slick}; see {@link
   * Database#akkaPersistenceJdbcConfig(int)}.
   */
  public Config akkaPersistenceJdbcConfig() {
    return database().akkaPersistenceJdbcConfig();
  }

  public Config akkaPersistenceJdbcConfig(int poolSize) {
    return database().akkaPersistenceJdbcConfig(poolSize);
  }

  /** {@code SELECT count(*)} of a table, optionally schema-qualified. */
  public long countRows(String table) {
    return database().countRows(table);
  }

  /** Runs SQL as the database's owner, e.g. {@code TRUNCATE event_journal, snapshot}. */
  public void execute(String sql) {
    try (Connection c = dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("could not execute: " + sql, e);
    }
  }
}
