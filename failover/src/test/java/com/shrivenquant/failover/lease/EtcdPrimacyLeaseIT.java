package com.shrivenquant.failover.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.lease.PrimacyLease.LeaseUnavailable;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.infra.EtcdCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The etcd primacy lease on three real etcd processes: the contract ({@link PrimacyLeaseContract})
 * with expiry judged by etcd in real time, the leader killed (kill -9) under a holder renewing
 * every 200 ms, the loss of the majority, a member without quorum (its peers SIGSTOPped: silent, as
 * in a partition) and a dead or silent member first in a client's list.
 */
class EtcdPrimacyLeaseIT extends PrimacyLeaseContract {
  static final Duration TTL = Duration.ofMillis(2000);
  static final Duration CALL_TIMEOUT = Duration.ofMillis(500);
  static final long FENCE_MARGIN_MILLIS = 1400;
  static final long PAUSE_BUDGET_MILLIS = 1500;

  static EtcdCluster etcd;
  static final HttpClient http = HttpClient.newHttpClient();
  static final ObjectMapper json = new ObjectMapper();

  private String prefix;

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdCluster.builder().logDirectory(java.nio.file.Path.of("target", "etcd-logs")).start();
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) etcd.close();
  }

  @BeforeEach
  void freshPrefix() {
    prefix = "/sq-test/" + UUID.randomUUID() + "/";
  }

  @AfterEach
  void restoreCluster() {
    for (int i = 0; i < EtcdCluster.MEMBERS; i++) {
      if (etcd.isRunning(i)) etcd.resume(i);
    }
    for (int i = 0; i < EtcdCluster.MEMBERS; i++) {
      if (!etcd.isRunning(i)) etcd.restart(i);
    }
  }

  // ---- the contract's hooks: etcd's time is real, waited for or cut short by revoking ----------

  @Override
  protected EtcdPrimacyLease lease() {
    return lease(CALL_TIMEOUT);
  }

  @Override
  protected EtcdPrimacyLease racer() {
    return lease(Duration.ofSeconds(10));
  }

  @Override
  protected Duration ttl() {
    return TTL;
  }

  @Override
  protected long justNowMillis() {
    return TTL.toMillis();
  }

  @Override
  protected Duration letTheLeaseAge() {
    // etcd's time cannot be moved, and it reports ages in whole seconds: waiting for an age it
    // would show would eat most of the 2 s the next renewal must beat. The renewals instead go on
    // past several ttls (renewingSpan).
    return Duration.ZERO;
  }

  @Override
  protected Duration renewingSpan() {
    return TTL.multipliedBy(2).plusMillis(500);
  }

  /** What etcd does at expiry (revokes the holder's lease, deleting the key), without waiting. */
  @Override
  protected void expireTheHolderNow() throws Exception {
    long id = holderLeaseId();
    gateway("/v3/lease/revoke", "{\"ID\":\"" + id + "\"}");
  }

  @Override
  protected LeaseState letTheHolderExpire(PrimacyLease standby, long acquireStartedNanos)
      throws Exception {
    long sinceAcquire = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acquireStartedNanos);
    Thread.sleep(Math.max(0, 1500 - sinceAcquire));
    assertFalse(standby.read().expired(), "1.5 s < ttl");
    assertEquals(OptionalLong.empty(), standby.acquire("region-2", 1), "still fresh at 1.5 s");

    LeaseState seen =
        Eventually.await(
            "etcd expired the holder key",
            Duration.ofSeconds(6),
            standby::read,
            LeaseState::expired);
    long expiredAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acquireStartedNanos);
    System.out.printf("holder stopped renewing: expired() after %d ms%n", expiredAfter);
    assertTrue(expiredAfter >= TTL.toMillis(), "expired before the ttl: " + expiredAfter + " ms");
    assertTrue(seen.ageMillis() > TTL.toMillis() && seen.ageMillis() >= PAUSE_BUDGET_MILLIS);
    return seen;
  }

  /** Polls as the coordinator does: it must not say ttl before ttl has passed on our clock too. */
  @Override
  protected void assertSeizureTimedByTheWitness(
      PrimacyLease lease, long epoch, long seizeStartedNanos) throws Exception {
    long reached;
    while (true) {
      long s = lease.sinceSeized(epoch).orElseThrow();
      long wall = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - seizeStartedNanos);
      if (s >= TTL.toMillis()) {
        reached = wall;
        break;
      }
      assertTrue(wall < 10_000, "the seizure timer never ran out");
      Thread.sleep(50);
    }
    System.out.printf("sinceSeized reached the ttl %d ms after the seize began%n", reached);
    assertTrue(reached >= TTL.toMillis(), "claimed ttl after " + reached + " ms");
  }

  /** holder|epoch|how of every epoch taken, oldest first. */
  @Override
  protected List<String> history() throws Exception {
    List<String> out = new ArrayList<>();
    for (JsonNode kv : range(prefix + "taken/", true)) {
      String key = decode(kv.path("key").asText());
      JsonNode record = json.readTree(decode(kv.path("value").asText()));
      long epoch = Long.parseLong(key.substring(key.lastIndexOf('/') + 1));
      out.add(taken(record.path("holder").asText(), epoch, null, record.path("how").asText()));
    }
    return out;
  }

  /** etcd's {@code taken/<epoch>} records name no previous holder. */
  @Override
  protected String taken(String holder, long epoch, String previous, String how) {
    return holder + "|" + epoch + "|" + how;
  }

  // ---- etcd's own parts of the contract ------------------------------------------------------

  @Test
  void initIsIdempotentASecondOneDoesNotResetTheEpoch() throws Exception {
    EtcdPrimacyLease lease = lease();
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    lease.init();
    assertEquals(1, lease().read().epoch());
  }

  @Test
  void aHandOverRevokesTheEtcdLeaseItReplacesAndTheHolderKeyDecidesMeanwhile() throws Exception {
    EtcdPrimacyLease lease = lease();
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    long oldLease = holderLeaseId();
    assertEquals(OptionalLong.of(2), lease.handOver("region-1", 1, "region-2"));
    // The holder key decides, not whether some etcd lease of region-1 is alive: renew reads the
    // key's lease, and the replaced one is revoked (best effort, so eventually).
    assertFalse(lease.renew("region-1", 1));
    Eventually.await(
        "the replaced etcd lease revoked", Duration.ofSeconds(5), () -> !alive(oldLease));
    assertFalse(lease.renew("region-1", 1));
    assertFalse(lease.renew("region-1", 2));
    assertTrue(lease.renew("region-2", 2));
  }

  // ---- member failures -----------------------------------------------------------------------

  @Test
  void killingTheLeaderLeavesNoRenewalGapAsLongAsTheFenceMarginAndLosingTheMajorityFailsRenewals()
      throws Exception {
    EtcdPrimacyLease lease = lease();
    assertEquals(OptionalLong.of(1), lease.acquire("region-1", 0));
    int leader = etcd.leader();
    List<Attempt> attempts;
    long killedAt;
    long secondKilledAt;
    int second = (leader + 1) % EtcdCluster.MEMBERS;
    try (Renewer renewer = new Renewer(lease, "region-1", 1)) {
      Thread.sleep(1000);
      killedAt = System.nanoTime();
      etcd.kill9(leader);
      Thread.sleep(5000);
      int newLeader = etcd.leader();
      assertTrue(newLeader != leader, "a new leader was elected");
      secondKilledAt = System.nanoTime();
      etcd.kill9(second);
      Thread.sleep(3000);
      attempts = renewer.stop();
    }
    // Phase 1: one member (the leader) dead.
    long lastSuccessStart = Long.MIN_VALUE;
    long maxGap = 0;
    long gapAtKill = -1;
    for (Attempt a : attempts) {
      if (a.startNanos >= secondKilledAt) break;
      assertTrue(a.result == null || a.result, "renew said false (lost) at " + a);
      if (Boolean.TRUE.equals(a.result)) {
        if (lastSuccessStart != Long.MIN_VALUE) {
          long gap = TimeUnit.NANOSECONDS.toMillis(a.endNanos - lastSuccessStart);
          maxGap = Math.max(maxGap, gap);
          if (lastSuccessStart <= killedAt && a.startNanos > killedAt) gapAtKill = gap;
        }
        lastSuccessStart = a.startNanos;
      }
    }
    long failedInPhase1 =
        attempts.stream().filter(a -> a.startNanos < secondKilledAt && a.result == null).count();
    System.out.printf(
        "leader etcd-%d killed: renewal gap across the kill %d ms, longest gap %d ms, %d failed"
            + " renewals (fence margin %d ms)%n",
        leader, gapAtKill, maxGap, failedInPhase1, FENCE_MARGIN_MILLIS);
    assertTrue(gapAtKill > 0, "renewals resumed after the kill");
    assertTrue(maxGap < FENCE_MARGIN_MILLIS, "renewal gap " + maxGap + " ms");

    // Phase 2: two of three dead. No success may start after the kill; failures are timely.
    List<Attempt> phase2 = attempts.stream().filter(a -> a.startNanos > secondKilledAt).toList();
    assertTrue(phase2.size() >= 3, "renewals kept being tried: " + phase2.size());
    long slowest = 0;
    for (Attempt a : phase2) {
      assertEquals(null, a.result, "no quorum, yet renew answered " + a.result);
      slowest = Math.max(slowest, TimeUnit.NANOSECONDS.toMillis(a.endNanos - a.startNanos));
    }
    System.out.printf(
        "majority lost: %d renewals, all LeaseUnavailable, slowest %d ms (call-timeout %d ms)%n",
        phase2.size(), slowest, CALL_TIMEOUT.toMillis());
    assertTrue(slowest < CALL_TIMEOUT.toMillis() + 150, "slowest failure " + slowest + " ms");

    // Phase 3: both back. The lease is renewable again, or (if etcd expired it) re-acquirable.
    etcd.restart(leader);
    etcd.restart(second);
    LeaseState after =
        Eventually.await("witness back", Duration.ofSeconds(10), lease::read, s -> true);
    if (after.expired()) {
      assertEquals(OptionalLong.of(2), lease.acquire("region-1", 1));
      assertTrue(lease.renew("region-1", 2));
    } else {
      assertTrue(lease.renew("region-1", 1), "held through the outage: " + after);
    }
    System.out.printf("after both restarts: %s%n", after);
  }

  @Test
  void aMemberCutOffFromTheMajorityAnswersNothingNeverAStaleSuccess() throws Exception {
    EtcdPrimacyLease all = lease();
    assertEquals(OptionalLong.of(1), all.acquire("region-1", 0));
    int cut = etcd.leader(); // the worst case: it may still believe it leads
    EtcdPrimacyLease isolated = lease(List.of(etcd.clientUrl(cut)));
    assertTrue(isolated.renew("region-1", 1), "reachable before the cut");
    for (int i = 0; i < EtcdCluster.MEMBERS; i++) if (i != cut) etcd.pause(i);
    try {
      long limit = CALL_TIMEOUT.toMillis() + 150;
      for (int round = 0; round < 5; round++) {
        long renew = timeFailure(() -> isolated.renew("region-1", 1));
        long read = timeFailure(isolated::read);
        long acquire = timeFailure(() -> isolated.acquire("region-2", 1));
        long since = timeFailure(() -> isolated.sinceSeized(1));
        System.out.printf(
            "etcd-%d without quorum, round %d: renew failed after %d ms, read %d, acquire %d,"
                + " sinceSeized %d%n",
            cut, round, renew, read, acquire, since);
        for (long took : List.of(renew, read, acquire, since))
          assertTrue(took < limit, "took " + took + " ms");
      }
    } finally {
      for (int i = 0; i < EtcdCluster.MEMBERS; i++) if (i != cut) etcd.resume(i);
    }
    LeaseState after =
        Eventually.await("quorum back", Duration.ofSeconds(10), isolated::read, s -> true);
    assertEquals(1, after.epoch(), "the acquire during the cut did not happen");
  }

  @Test
  void aDeadOrSilentMemberFirstInTheListCostsLessThanTheDeadline() throws Exception {
    int victim = (etcd.leader() + 1) % EtcdCluster.MEMBERS; // a follower: the others keep quorum
    List<String> victimFirst = new ArrayList<>();
    victimFirst.add(etcd.clientUrl(victim));
    for (int i = 0; i < EtcdCluster.MEMBERS; i++)
      if (i != victim) victimFirst.add(etcd.clientUrl(i));

    etcd.pause(victim);
    long silentMillis = timeSuccess(() -> lease(victimFirst).acquire("region-1", 0));
    etcd.resume(victim);
    etcd.kill9(victim);
    long deadMillis = timeSuccess(() -> lease(victimFirst).renew("region-1", 1));
    System.out.printf(
        "first member silent: acquire answered in %d ms; dead: renew in %d ms (deadline %d ms)%n",
        silentMillis, deadMillis, CALL_TIMEOUT.toMillis());
    assertTrue(silentMillis < CALL_TIMEOUT.toMillis());
    assertTrue(deadMillis < CALL_TIMEOUT.toMillis());
  }

  // ---- helpers -------------------------------------------------------------------------------

  record Attempt(long startNanos, long endNanos, Boolean result) {}

  /** Renews every 200 ms like PrimacyAgent; null = LeaseUnavailable. */
  static final class Renewer implements AutoCloseable {
    private final List<Attempt> attempts = Collections.synchronizedList(new ArrayList<>());
    private final Thread thread;
    private volatile boolean running = true;

    Renewer(PrimacyLease lease, String region, long epoch) {
      thread =
          new Thread(
              () -> {
                while (running) {
                  long t0 = System.nanoTime();
                  Boolean r;
                  try {
                    r = lease.renew(region, epoch);
                  } catch (LeaseUnavailable e) {
                    r = null;
                  }
                  attempts.add(new Attempt(t0, System.nanoTime(), r));
                  long next = t0 + 200_000_000L - System.nanoTime();
                  if (next > 0) {
                    try {
                      TimeUnit.NANOSECONDS.sleep(next);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                }
              },
              "renewer");
      thread.setDaemon(true);
      thread.start();
    }

    List<Attempt> stop() throws InterruptedException {
      running = false;
      thread.join(5000);
      return List.copyOf(attempts);
    }

    @Override
    public void close() throws InterruptedException {
      stop();
    }
  }

  private static long timeSuccess(LeaseCall call) throws Exception {
    long t0 = System.nanoTime();
    Object r = call.run();
    assertTrue(
        r.equals(Boolean.TRUE) || (r instanceof OptionalLong o && o.isPresent()), "got " + r);
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  private EtcdPrimacyLease lease(Duration callTimeout) {
    return open(etcd.clientUrls(), callTimeout);
  }

  private EtcdPrimacyLease lease(List<String> endpoints) {
    return open(endpoints, CALL_TIMEOUT);
  }

  private EtcdPrimacyLease open(List<String> endpoints, Duration callTimeout) {
    return closeAfterEach(
        new EtcdPrimacyLease(new FailoverSettings.Etcd(endpoints, prefix), TTL, callTimeout));
  }

  private long holderLeaseId() throws Exception {
    JsonNode kvs = range(prefix + "state/holder", false);
    assertEquals(1, kvs.size(), "a holder key");
    return kvs.get(0).path("lease").asLong();
  }

  private static boolean alive(long leaseId) throws Exception {
    JsonNode r = gateway("/v3/lease/timetolive", "{\"ID\":\"" + leaseId + "\"}");
    return r.path("TTL").asLong(0) >= 0;
  }

  private static JsonNode range(String key, boolean asPrefix) throws Exception {
    String end = asPrefix ? ",\"range_end\":\"" + EtcdGateway.prefixEnd(key) + "\"" : "";
    return gateway("/v3/kv/range", "{\"key\":\"" + EtcdGateway.b64(key) + "\"" + end + "}")
        .path("kvs");
  }

  private static JsonNode gateway(String path, String body) throws Exception {
    for (int i = 0; ; i++) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(etcd.clientUrl(i % 3) + path))
                    .timeout(Duration.ofSeconds(2))
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return json.readTree(r.body().strip().split("\n")[0]);
        if (i >= 5) throw new IllegalStateException(path + ": " + r.body());
      } catch (java.io.IOException e) {
        if (i >= 5) throw e;
      }
    }
  }

  private static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
  }
}
