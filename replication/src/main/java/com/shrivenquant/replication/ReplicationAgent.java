package com.shrivenquant.replication;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.shrivenquant.replication.apply.StandbyApplier;
import com.shrivenquant.replication.publish.JournalPublisher;
import java.time.Duration;

/**
 * A publisher or an applier as its own process, configured by system properties: {@code
 * sq.replication.mode} (publish|apply), {@code sq.replication.jdbc-url}, {@code .jdbc-user}, {@code
 * .jdbc-password}, {@code .bootstrap-servers}, {@code .topic}, {@code .epoch}, {@code .id}. Runs
 * until the process is stopped; both sides restart their streams by themselves after failures and
 * resume from the positions stored in their database.
 */
public final class ReplicationAgent {
  private ReplicationAgent() {}

  public static void main(String[] args) {
    String mode = required("mode");
    javax.sql.DataSource ds =
        ReplicationDataSource.pooled(
            required("jdbc-url"),
            required("jdbc-user"),
            required("jdbc-password"),
            "replication-" + mode);
    String bootstrap = required("bootstrap-servers");
    String topic = required("topic");
    long epoch = Long.parseLong(System.getProperty("sq.replication.epoch", "1"));
    String id = System.getProperty("sq.replication.id", "region-1");
    ReplicationSchema.migrate(ds);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "replication-" + mode);
    try {
      java.util.function.Supplier<String> progress;
      switch (mode) {
        case "publish" -> {
          JournalPublisher.start(
              system,
              ds,
              JournalPublisher.Settings.fromConfig(
                  system.settings().config(), id, topic, bootstrap),
              () -> epoch);
          var position = new com.shrivenquant.replication.publish.PublisherPosition(ds, id);
          progress =
              () -> {
                try {
                  return "published up to ordering " + position.load();
                } catch (java.sql.SQLException e) {
                  return "position unknown: " + e.getMessage();
                }
              };
        }
        case "apply" -> {
          StandbyApplier applier =
              StandbyApplier.start(
                  system,
                  ds,
                  new StandbyApplier.Settings(
                      id + "-applier", topic, bootstrap, 2000, Duration.ofMillis(20)),
                  epoch);
          progress = () -> "applied " + applier.applied() + ", refused " + applier.refused();
        }
        default ->
            throw new IllegalArgumentException("sq.replication.mode must be publish or apply");
      }
      system
          .scheduler()
          .scheduleAtFixedRate(
              Duration.ofSeconds(2),
              Duration.ofSeconds(2),
              () -> System.out.println("replication agent " + mode + ": " + progress.get()),
              system.executionContext());
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException(e);
    }
    System.out.println("replication agent started: " + mode);
  }

  private static String required(String key) {
    String v = System.getProperty("sq.replication." + key);
    if (v == null || v.isBlank())
      throw new IllegalArgumentException("missing -Dsq.replication." + key);
    return v;
  }
}
