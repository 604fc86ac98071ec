package com.shrivenquant.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresAndActorTestKitExtensionTest {

  @RegisterExtension
  static final PostgresExtension postgres =
      new PostgresExtension(
          ds -> {
            try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
              st.execute(
                  "CREATE TABLE event_journal (ordering bigserial primary key, persistence_id text not null)");
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });

  // Reads the port of postgres: whichever BeforeAll JUnit runs first, postgres starts on that read.
  @RegisterExtension
  static final ActorTestKitExtension testKit =
      new ActorTestKitExtension(
          () ->
              postgres
                  .akkaPersistenceJdbcConfig()
                  .withFallback(ConfigFactory.parseString("akka.loglevel = WARNING")));

  record Ping(ActorRef<String> replyTo) {}

  @Test
  void migrationRanAndRowsCanBeCounted() {
    assertEquals(0, postgres.countRows("event_journal"));
    postgres.execute("INSERT INTO event_journal (persistence_id) VALUES ('a'), ('b')");
    assertEquals(2, postgres.countRows("public.event_journal"));
    postgres.execute("TRUNCATE event_journal");
  }

  @Test
  void actorSystemSeesTheDatabaseOfTheExtensionBeforeIt() {
    String url =
        testKit
            .system()
            .settings()
            .config()
            .getString("akka-persistence-jdbc.shared-databases.slick.db.url");
    assertEquals(postgres.jdbcUrl(), url);
    assertEquals("jdbc:postgresql://127.0.0.1:" + postgres.port() + "/shrivenquant", url);
  }

  @Test
  void spawnsActorsAndProbes() {
    TestProbe<String> probe = testKit.createTestProbe();
    ActorRef<Ping> pong =
        testKit.spawn(
            Behaviors.receiveMessage(
                ping -> {
                  ping.replyTo().tell("pong");
                  return Behaviors.same();
                }),
            "pong");
    pong.tell(new Ping(probe.getRef()));
    probe.expectMessage("pong");
    assertEquals("PostgresAndActorTestKitExtensionTest", testKit.system().name());
  }

  @Nested
  class NestedTests {
    @Test
    void shareTheOuterClassesResources() {
      ActorSystem<Void> system = testKit.system();
      assertSame(system, testKit.testKit().system());
      assertEquals(0, postgres.countRows("event_journal"));
    }
  }
}
