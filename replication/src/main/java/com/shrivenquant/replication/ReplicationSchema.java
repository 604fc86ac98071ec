package com.shrivenquant.replication;

import com.shrivenquant.schema.Migrations;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/** Replication's own tables (positions, audit), next to the journal in each region's database. */
public final class ReplicationSchema {
  public static final String LOCATION = "classpath:db/migration/replication";
  public static final String HISTORY_TABLE = "flyway_history_replication";

  private ReplicationSchema() {}

  public static void migrate(DataSource dataSource) {
    Migrations.migrate(
        Flyway.configure()
            .dataSource(dataSource)
            .locations(LOCATION)
            .table(HISTORY_TABLE)
            .baselineOnMigrate(true)
            .baselineVersion("0"));
  }
}
