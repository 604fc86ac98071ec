package com.shrivenquant.engine.persistence;

import com.shrivenquant.schema.Migrations;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * The journal's schema, applied by Flyway when a node starts (and by tests on their own databases).
 */
public final class JournalSchema {
  public static final String LOCATION = "classpath:db/migration/journal";
  // Each module keeps its own history table, so modules version their migrations independently.
  public static final String HISTORY_TABLE = "flyway_history_journal";

  private JournalSchema() {}

  public static void migrate(DataSource dataSource) {
    Migrations.migrate(flyway().dataSource(dataSource));
  }

  public static void migrate(String jdbcUrl, String user, String password) {
    Migrations.migrate(flyway().dataSource(jdbcUrl, user, password));
  }

  private static FluentConfiguration flyway() {
    return Flyway.configure()
        .locations(LOCATION)
        .table(HISTORY_TABLE)
        .baselineOnMigrate(true)
        .baselineVersion("0");
  }
}
