package com.shrivenquant.failover.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.lease.JdbcPrimacyLease;
import com.shrivenquant.failover.lease.LeaseState;
import com.shrivenquant.testkit.PostgresExtension;
import com.shrivenquant.testkit.infra.TcpProxy;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The per-node primacy agent against a real witness reached through a proxy that can cut the link:
 * the node accepts orders only while its own renewals succeed, fences itself on its own clock
 * before the witness would let the standby take the lease, opens again when the link heals (same
 * epoch), and closes when another region takes the lease.
 */
class PrimacyAgentIT {
  static final String REGION = "region-1";

  /** The witness: its own server, reached by the agent only through {@link #link}. */
  @RegisterExtension
  static final PostgresExtension witness =
      new PostgresExtension("witness", ds -> {}, b -> b.name("agent-witness"));

  @RegisterExtension
  static final PostgresExtension region =
      new PostgresExtension("region_1", RegionStateStore::migrate, b -> b.name("agent-region-1"));

  static TcpProxy link;
  static FailoverSettings settings;

  private JdbcPrimacyLease direct;
  private PrimacyAgent agent;

  @BeforeAll
  static void setUp() {
    link = TcpProxy.start("witness-link", "127.0.0.1", witness.port());
    Config config =
        ConfigFactory.empty()
            .withValue(
                "shrivenquant.failover.lease.witness.jdbc-url",
                ConfigValueFactory.fromAnyRef(
                    "jdbc:postgresql://127.0.0.1:" + link.port() + "/witness"))
            .withValue(
                "shrivenquant.failover.lease.witness.user",
                ConfigValueFactory.fromAnyRef(witness.user()))
            .withValue(
                "shrivenquant.failover.lease.witness.password",
                ConfigValueFactory.fromAnyRef(witness.password()))
            .withFallback(ConfigFactory.load());
    settings = FailoverSettings.fromConfig(config, REGION);
    JdbcPrimacyLease.migrate(directJdbc(), settings.lease().ttl());
  }

  @BeforeEach
  void activeRegionHoldingTheLease() throws Exception {
    link.restore();
    witness.execute(
        "UPDATE primacy_lease SET holder = NULL, epoch = 0, renewed_at = clock_timestamp()");
    region.execute("TRUNCATE region_state");
    direct =
        new JdbcPrimacyLease(directJdbc(), settings.lease().ttl(), settings.lease().callTimeout());
    assertEquals(OptionalLong.of(1), direct.acquire(REGION, 0));
    assertTrue(store().save(RegionRole.ACTIVE, 1, "test: initial active region"));
  }

  @AfterEach
  void stop() {
    if (agent != null) agent.close();
    agent = null;
    direct.close();
    link.restore();
  }

  @AfterAll
  static void closeLink() {
    link.close();
  }

  @Test
  void fencesItselfWithinTheMarginOfItsLastRenewalBeforeTheLeaseExpiresAndReopensAfterRestore()
      throws Exception {
    FailoverSettings.Lease l = settings.lease();
    long tick = settings.watcherPollInterval().toNanos();
    long margin = l.fenceMargin().toNanos();
    long ttl = l.ttl().toNanos();
    agent = new PrimacyAgent(settings, newLease(), store()).start();

    PrimacyAgent.Status open =
        await(PrimacyAgent.Status::accepting, Duration.ofSeconds(5), "accepting");
    assertEquals(1, open.epoch());
    assertEquals(RegionRole.ACTIVE, open.role());
    assertEquals(Optional.of(REGION), open.activeRegion());
    // Let it renew a few times through the proxy before the cut.
    Thread.sleep(3 * l.renewInterval().toMillis());
    assertTrue(agent.status().accepting());

    long cut = System.nanoTime();
    link.blackhole();
    long cutDone = System.nanoTime();
    PrimacyAgent.Status fenced;
    long fencedAt;
    long lastSeenAccepting = cut; // taken before the status() call that still said accepting
    long lastRenewalSeenAccepting = Long.MIN_VALUE;
    while (true) {
      long before = System.nanoTime();
      PrimacyAgent.Status s = agent.status();
      long now = System.nanoTime();
      if (!s.accepting()) {
        fenced = s;
        fencedAt = now;
        break;
      }
      lastSeenAccepting = before;
      lastRenewalSeenAccepting = s.lastRenewStartNanos();
      assertTrue(
          now - cut < ttl + Duration.ofSeconds(2).toNanos(), "still accepting long after the cut");
      Thread.sleep(2);
    }
    // Ask the witness (directly, not through the cut link) how it sees the lease at that moment.
    LeaseState atWitness = direct.read();
    long lastRenewal = fenced.lastRenewStartNanos();
    long openAfterRenewal = fencedAt - lastRenewal;
    System.out.printf(
        "blackhole at t=0 (took %d ms); last successful renewal began at t=%d ms;"
            + " last seen accepting at t=%d ms; stopped accepting at t=%d ms, i.e. %d ms after that renewal began"
            + " (fence-margin %d ms, tick %d ms, ttl %d ms); witness then: age %d ms, expired %s; reason: %s%n",
        ms(cutDone - cut),
        ms(lastRenewal - cut),
        ms(lastSeenAccepting - cut),
        ms(fencedAt - cut),
        ms(openAfterRenewal),
        ms(margin),
        ms(tick),
        ms(ttl),
        atWitness.ageMillis(),
        atWitness.expired(),
        fenced.reason());

    assertTrue(lastRenewal != Long.MIN_VALUE);
    assertEquals(
        lastRenewal,
        lastRenewalSeenAccepting,
        "no renewal succeeded after the last accepting answer");
    // status() checked the fence after `lastSeenAccepting`: the node said "accepting" only inside
    // the margin.
    assertTrue(
        lastSeenAccepting - lastRenewal < margin,
        "said accepting "
            + ms(lastSeenAccepting - lastRenewal)
            + " ms after its last renewal began");
    assertTrue(lastRenewal < cutDone, "no renewal can succeed through a blackholed link");
    assertTrue(fencedAt > cut);
    assertTrue(
        openAfterRenewal <= margin + tick,
        "accepted " + ms(openAfterRenewal) + " ms after its last renewal began");
    assertTrue(openAfterRenewal < ttl, "accepted until the lease could have expired");
    assertFalse(atWitness.expired(), "the node must stop before the witness lets the standby in");
    assertEquals(Optional.of(REGION), atWitness.holder());
    assertTrue(fenced.reason().contains("fence margin"), fenced.reason());
    assertEquals(1, fenced.epoch(), "fencing is not a role change");

    // It stays closed while the partition lasts.
    Thread.sleep(500);
    assertFalse(agent.status().accepting());

    long healed = System.nanoTime();
    link.restore();
    PrimacyAgent.Status reopened =
        await(PrimacyAgent.Status::accepting, Duration.ofSeconds(5), "accepting again");
    System.out.printf(
        "accepting again %d ms after restore, epoch %d%n",
        ms(System.nanoTime() - healed), reopened.epoch());
    assertEquals(1, reopened.epoch(), "same epoch after the partition");
    assertTrue(
        reopened.lastRenewStartNanos() >= healed, "reopened only by a renewal after the heal");
    LeaseState after = direct.read();
    assertEquals(Optional.of(REGION), after.holder());
    assertEquals(1, after.epoch());
  }

  @Test
  void reportsLeaseLostWhenAnotherRegionTookTheLease() throws Exception {
    agent = new PrimacyAgent(settings, newLease(), store()).start();
    await(PrimacyAgent.Status::accepting, Duration.ofSeconds(5), "accepting");

    // The agent renews every renew-interval; expire the lease and take it between two renewals.
    OptionalLong taken = OptionalLong.empty();
    for (int attempt = 0; attempt < 50 && taken.isEmpty(); attempt++) {
      witness.execute(
          "UPDATE primacy_lease SET renewed_at = clock_timestamp() - interval '1 hour'");
      taken = direct.acquire("region-2", 1);
    }
    long takenAt = System.nanoTime();
    assertEquals(OptionalLong.of(2), taken);

    PrimacyAgent.Status lost = await(s -> !s.accepting(), Duration.ofSeconds(5), "not accepting");
    System.out.printf(
        "lease taken by region-2; region-1 stopped accepting %d ms later: %s%n",
        ms(System.nanoTime() - takenAt), lost.reason());
    assertTrue(lost.reason().startsWith("lease lost"), lost.reason());
    assertTrue(lost.reason().contains("region-2"), lost.reason());
    assertEquals(Optional.of("region-2"), lost.lastLeaseRead().flatMap(LeaseState::holder));
    assertEquals(2, lost.lastLeaseRead().orElseThrow().epoch());

    // It never opens again in the old epoch, though the witness answers fine: watch every answer
    // for longer than the fence margin (its last successful renewal was just before the takeover).
    long watchUntil = System.nanoTime() + settings.lease().fenceMargin().plusMillis(500).toNanos();
    int answers = 0;
    while (System.nanoTime() < watchUntil) {
      PrimacyAgent.Status s = agent.status();
      answers++;
      assertFalse(
          s.accepting(),
          "accepting again in epoch "
              + s.epoch()
              + " after the lease was lost"
              + " to region-2 (answer "
              + answers
              + "): "
              + s.reason());
      Thread.sleep(2);
    }
    assertEquals(Optional.of("region-2"), direct.read().holder());
  }

  @Test
  void aStandbyRegionNeverAcceptsAndRenewsNothing() throws Exception {
    assertTrue(store().save(RegionRole.STANDBY, 1, "test: standby"));
    witness.execute("UPDATE primacy_lease SET renewed_at = clock_timestamp() - interval '1 hour'");
    agent = new PrimacyAgent(settings, newLease(), store()).start();
    PrimacyAgent.Status s =
        await(
            st -> st.state().isPresent() && st.lastLeaseRead().isPresent(),
            Duration.ofSeconds(5),
            "state and lease known");
    Thread.sleep(3 * settings.lease().renewInterval().toMillis());
    assertFalse(agent.status().accepting());
    assertEquals(RegionRole.STANDBY, s.role());
    assertTrue(direct.read().expired(), "a standby must not renew the lease");
  }

  private PrimacyAgent.Status await(
      Predicate<PrimacyAgent.Status> condition, Duration timeout, String what)
      throws InterruptedException {
    // Not Eventually: "lease lost" shows only until the next 50 ms tick; 100 ms pauses miss it.
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      PrimacyAgent.Status s = agent.status();
      if (condition.test(s)) return s;
      if (System.nanoTime() > deadline)
        throw new AssertionError("not " + what + " within " + timeout + ": " + s);
      Thread.sleep(5);
    }
  }

  private static JdbcPrimacyLease newLease() {
    return new JdbcPrimacyLease(
        settings.witness(), settings.lease().ttl(), settings.lease().callTimeout());
  }

  private static RegionStateStore store() {
    DataSource ds = region.dataSource();
    return new RegionStateStore(ds, REGION);
  }

  private static FailoverSettings.Jdbc directJdbc() {
    return new FailoverSettings.Jdbc(witness.jdbcUrl(), witness.user(), witness.password());
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
