package com.shrivenquant.failover.lease;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.shrivenquant.failover.FailoverSettings;
import com.shrivenquant.failover.lease.EtcdGateway.Call;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * The primacy lease on an etcd cluster (three members: it survives the loss of any one), through
 * etcd's v3 JSON gateway. etcd's own leases judge expiry, on the etcd leader's clock; every change
 * is one transaction that compares the epoch. Reads are linearizable, so a member cut off from the
 * majority answers nothing rather than something stale.
 *
 * <p>Keys under the prefix:
 *
 * <ul>
 *   <li>{@code state/epoch}: the epoch, decimal; persistent, created as 0 by {@link #init}.
 *   <li>{@code state/last}: the region that took the lease last ({@code ""} before anyone did);
 *       persistent: {@link LeaseState#holder()} stays the last holder after expiry, as in the JDBC
 *       lease, and {@code seize} and {@code handOver} compare with it.
 *   <li>{@code state/holder}: {@code region@epoch}, attached to an etcd lease of TTL = ttl rounded
 *       up to whole seconds. Present = held and not expired. Every change puts it with a freshly
 *       granted etcd lease and revokes the one it replaces (best effort: see {@link #renew}).
 *   <li>{@code taken/<epoch>}: who took the epoch, how, and a nonce of the call (history, and the
 *       way a retried transaction recognises its own earlier success).
 *   <li>{@code seized/<epoch>}: {@code pending}, then {@code timing}; {@code seized/<epoch>/timer}
 *       is attached to an etcd lease of the same TTL, granted only after the seizure committed, so
 *       it cannot expire sooner than ttl after the seizure (a lease granted before the transaction
 *       would start its clock early by however long the transaction took).
 * </ul>
 *
 * <p>Ages come from {@code timetolive}, which reports whole seconds left (rounded down): while a
 * key is present, its age is reported as the least it can be, clamped to the ttl so a present key
 * never reads as expired; once etcd has deleted it, as just over the etcd TTL (etcd deletes a key
 * no sooner than its lease's TTL after the last keepalive). Every call has one deadline ({@code
 * lease.call-timeout}) across its requests and members: failure or lateness is {@link
 * LeaseUnavailable}, never a success.
 */
public final class EtcdPrimacyLease implements PrimacyLease {
  private static final String SEIZE = "seize";
  private static final String PENDING = "pending";
  private static final String TIMING = "timing";
  private static final Duration INIT_TIMEOUT = Duration.ofSeconds(10);

  private final EtcdGateway etcd;
  private final String prefix;
  private final long ttlMillis;
  private final long leaseSeconds;
  private final Duration callTimeout;
  private volatile boolean initialised;

  public EtcdPrimacyLease(FailoverSettings.Etcd witness, Duration ttl, Duration callTimeout) {
    this.etcd = new EtcdGateway(witness.endpoints(), callTimeout);
    this.prefix = witness.prefix();
    this.ttlMillis = ttl.toMillis();
    this.leaseSeconds = Math.max(1, (ttl.toMillis() + 999) / 1000);
    this.callTimeout = callTimeout;
  }

  /** Creates the epoch key (0, nobody) if missing; idempotent. Changes call it themselves once. */
  public void init() throws LeaseUnavailable {
    init(new Call("init", INIT_TIMEOUT));
  }

  @Override
  public LeaseState read() throws LeaseUnavailable {
    Call c = new Call("read", callTimeout);
    Map<String, JsonNode> state = range(key("state/"), true, c);
    long epoch = state.containsKey("state/epoch") ? Long.parseLong(value(state, "state/epoch")) : 0;
    String last = value(state, "state/last");
    JsonNode holder = state.get("state/holder");
    Optional<String> region = last.isEmpty() ? Optional.empty() : Optional.of(last);
    if (holder == null) return new LeaseState(region, epoch, goneAgeMillis(), ttlMillis);
    OptionalLong age = presentAgeMillis(holder.path("lease").asText("0"), c);
    return new LeaseState(
        Optional.of(regionOf(EtcdGateway.text(holder.get("value"))).orElse(last)),
        epoch,
        age.isPresent() ? Math.min(age.getAsLong(), ttlMillis) : goneAgeMillis(),
        ttlMillis);
  }

  /**
   * The holder key must say {@code region@epoch}, and a keepalive of the etcd lease that key is
   * attached to (read from the key, not remembered) must find it alive, and a second read must find
   * the key unchanged. An etcd lease replaced by a change but not revoked can still be alive, which
   * is why the key decides. The caller's renewal began before the first read.
   */
  @Override
  public boolean renew(String region, long epoch) throws LeaseUnavailable {
    Call c = new Call("renew", callTimeout);
    JsonNode holder = range(key("state/holder"), false, c).get("state/holder");
    if (holder == null || !EtcdGateway.text(holder.get("value")).equals(holderValue(region, epoch)))
      return false;
    ObjectNode ka = EtcdGateway.object().put("ID", holder.path("lease").asText());
    JsonNode result = etcd.post("/v3/lease/keepalive", ka, c).path("result");
    if (result.isMissingNode()) throw new LeaseUnavailable("etcd keepalive: no result", null);
    if (result.path("TTL").asLong(0) <= 0) return false;
    // A deposed leader still answers keepalives by itself for up to an election timeout; a
    // linearizable read after the keepalive (a quorum round) makes the renewal one the quorum's
    // lease has, whichever member took the keepalive (failover/model/README.md).
    JsonNode after = range(key("state/holder"), false, c).get("state/holder");
    return after != null
        && after.path("mod_revision").asText().equals(holder.path("mod_revision").asText())
        && after.path("lease").asText().equals(holder.path("lease").asText());
  }

  @Override
  public OptionalLong acquire(String region, long expectedEpoch) throws LeaseUnavailable {
    Call c = new Call("acquire", callTimeout);
    ArrayNode free = compares(expectedEpoch);
    free.add(compare("state/holder", "CREATE", "EQUAL").put("create_revision", "0"));
    ArrayNode ours = compares(expectedEpoch);
    ours.add(valueCompare("state/holder", "EQUAL", holderValue(region, expectedEpoch)));
    return change(c, region, expectedEpoch, "acquire", free, ours);
  }

  @Override
  public OptionalLong handOver(String from, long epoch, String to) throws LeaseUnavailable {
    Call c = new Call("handover", callTimeout);
    ArrayNode cmp = compares(epoch);
    cmp.add(valueCompare("state/last", "EQUAL", from));
    return change(c, to, epoch, "handover from " + from, cmp, null);
  }

  @Override
  public OptionalLong seize(String region, long expectedEpoch) throws LeaseUnavailable {
    Call c = new Call(SEIZE, callTimeout);
    ArrayNode cmp = compares(expectedEpoch);
    cmp.add(valueCompare("state/last", "NOT_EQUAL", region));
    OptionalLong taken = change(c, region, expectedEpoch, SEIZE, cmp, null);
    if (taken.isPresent()) {
      try {
        startTimer(taken.getAsLong(), c);
      } catch (LeaseUnavailable e) {
        // The seizure stands; sinceSeized starts the timer when it finds it pending.
      }
    }
    return taken;
  }

  @Override
  public OptionalLong sinceSeized(long epoch) throws LeaseUnavailable {
    Call c = new Call("seizure read", callTimeout);
    String marker = "seized/" + pad(epoch);
    Map<String, JsonNode> kvs = range(key(marker), true, c);
    if (!kvs.containsKey(marker)) return OptionalLong.empty();
    if (PENDING.equals(value(kvs, marker))) {
      startTimer(epoch, c);
      return OptionalLong.of(0);
    }
    JsonNode timer = kvs.get(marker + "/timer");
    if (timer == null) return OptionalLong.of(leaseSeconds * 1000);
    OptionalLong age = presentAgeMillis(timer.path("lease").asText("0"), c);
    // While the timer key exists, never claim the ttl has passed.
    return OptionalLong.of(
        age.isPresent() ? Math.min(age.getAsLong(), ttlMillis - 1) : leaseSeconds * 1000);
  }

  @Override
  public void close() {
    // Nothing held: the HTTP client's idle connections close by themselves.
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * One compare-and-swap per alternative (the second only if the first failed), each moving the
   * epoch to {@code expected + 1} with a fresh etcd lease for the holder key.
   */
  private OptionalLong change(
      Call c, String region, long expected, String how, ArrayNode first, ArrayNode second)
      throws LeaseUnavailable {
    if (!initialised) init(c);
    long next = expected + 1;
    String leaseId = grant(c);
    String nonce = UUID.randomUUID().toString();
    ArrayNode ops = EtcdGateway.object().arrayNode();
    ops.add(put("state/epoch", Long.toString(next), null, false));
    ops.add(put("state/last", region, null, false));
    ops.add(put("state/holder", holderValue(region, next), leaseId, true));
    ObjectNode record = EtcdGateway.object().put("holder", region).put("how", how);
    ops.add(put("taken/" + pad(next), record.put("nonce", nonce).toString(), null, false));
    if (how.equals(SEIZE)) ops.add(put("seized/" + pad(next), PENDING, null, false));

    JsonNode r = txn(first, ops, null, c);
    if (!r.path("succeeded").asBoolean(false) && second != null) r = txn(second, ops, null, c);
    if (r.path("succeeded").asBoolean(false)) {
      revokeQuietly(r.path("responses").path(2).path("response_put").path("prev_kv").path("lease"));
      return OptionalLong.of(next);
    }
    revokeQuietly(TextNode.valueOf(leaseId));
    // An earlier attempt of this call may have committed on a member that then went silent.
    if (c.ambiguous) {
      Map<String, JsonNode> taken = range(key("taken/" + pad(next)), false, c);
      String seen = value(taken, "taken/" + pad(next));
      if (seen.contains(nonce)) return OptionalLong.of(next);
    }
    return OptionalLong.empty();
  }

  private void init(Call c) throws LeaseUnavailable {
    ArrayNode cmp = EtcdGateway.object().arrayNode();
    cmp.add(compare("state/epoch", "CREATE", "EQUAL").put("create_revision", "0"));
    ArrayNode ops = EtcdGateway.object().arrayNode();
    ops.add(put("state/epoch", "0", null, false));
    ops.add(put("state/last", "", null, false));
    txn(cmp, ops, null, c);
    initialised = true;
  }

  // Grants the timer's etcd lease now, after the seizure, and attaches it once.
  private void startTimer(long epoch, Call c) throws LeaseUnavailable {
    String marker = "seized/" + pad(epoch);
    String leaseId = grant(c);
    ArrayNode cmp = EtcdGateway.object().arrayNode();
    cmp.add(valueCompare(marker, "EQUAL", PENDING));
    ArrayNode ops = EtcdGateway.object().arrayNode();
    ops.add(put(marker, TIMING, null, false));
    ops.add(put(marker + "/timer", "", leaseId, false));
    JsonNode r = txn(cmp, ops, null, c);
    if (!r.path("succeeded").asBoolean(false)) revokeQuietly(TextNode.valueOf(leaseId));
  }

  private String grant(Call c) throws LeaseUnavailable {
    ObjectNode body = EtcdGateway.object().put("TTL", Long.toString(leaseSeconds));
    JsonNode r = etcd.post("/v3/lease/grant", body, c);
    String id = r.path("ID").asText("");
    if (id.isEmpty() || id.equals("0"))
      throw new LeaseUnavailable("etcd granted no lease: " + r.path("error").asText(), null);
    return id;
  }

  // Least age of a present key's etcd lease (ms), empty if etcd says the lease is gone.
  private OptionalLong presentAgeMillis(String leaseId, Call c) throws LeaseUnavailable {
    JsonNode t = etcd.post("/v3/lease/timetolive", EtcdGateway.object().put("ID", leaseId), c);
    long left = t.path("TTL").asLong(0); // zero is omitted from the JSON
    if (left < 0) return OptionalLong.empty();
    long granted = t.path("grantedTTL").asLong(leaseSeconds);
    return OptionalLong.of(Math.max(0, (granted - left - 1) * 1000));
  }

  private long goneAgeMillis() {
    return Math.max(leaseSeconds * 1000, ttlMillis) + 1;
  }

  private void revokeQuietly(JsonNode leaseId) {
    String id = leaseId.asText("0");
    if (!id.isEmpty() && !id.equals("0"))
      etcd.postQuietly("/v3/lease/revoke", EtcdGateway.object().put("ID", id));
  }

  private JsonNode txn(ArrayNode compare, ArrayNode success, ArrayNode failure, Call c)
      throws LeaseUnavailable {
    ObjectNode body = EtcdGateway.object();
    body.set("compare", compare);
    body.set("success", success);
    if (failure != null) body.set("failure", failure);
    return etcd.post("/v3/kv/txn", body, c);
  }

  /** Keys (without the prefix) to their key-value objects; linearizable. */
  private Map<String, JsonNode> range(String k, boolean asPrefix, Call c) throws LeaseUnavailable {
    ObjectNode body = EtcdGateway.object().put("key", EtcdGateway.b64(k));
    if (asPrefix) body.put("range_end", EtcdGateway.prefixEnd(k));
    Map<String, JsonNode> out = new HashMap<>();
    for (JsonNode kv : etcd.post("/v3/kv/range", body, c).path("kvs")) {
      out.put(EtcdGateway.text(kv.get("key")).substring(prefix.length()), kv);
    }
    return out;
  }

  private ArrayNode compares(long epoch) {
    ArrayNode a = EtcdGateway.object().arrayNode();
    a.add(valueCompare("state/epoch", "EQUAL", Long.toString(epoch)));
    return a;
  }

  private ObjectNode compare(String k, String target, String result) {
    return EtcdGateway.object()
        .put("key", EtcdGateway.b64(key(k)))
        .put("target", target)
        .put("result", result);
  }

  private ObjectNode valueCompare(String k, String result, String value) {
    return compare(k, "VALUE", result).put("value", EtcdGateway.b64(value));
  }

  private ObjectNode put(String k, String value, String leaseId, boolean prevKv) {
    ObjectNode p =
        EtcdGateway.object()
            .put("key", EtcdGateway.b64(key(k)))
            .put("value", EtcdGateway.b64(value));
    if (leaseId != null) p.put("lease", leaseId);
    if (prevKv) p.put("prev_kv", true);
    ObjectNode op = EtcdGateway.object();
    op.set("request_put", p);
    return op;
  }

  private String key(String k) {
    return prefix + k;
  }

  private static String value(Map<String, JsonNode> kvs, String k) {
    JsonNode kv = kvs.get(k);
    return kv == null ? "" : EtcdGateway.text(kv.get("value"));
  }

  private static String holderValue(String region, long epoch) {
    return region + "@" + epoch;
  }

  private static Optional<String> regionOf(String holderValue) {
    int at = holderValue.lastIndexOf('@');
    return at <= 0 ? Optional.empty() : Optional.of(holderValue.substring(0, at));
  }

  // Fixed width, so the keys of one epoch never prefix another's.
  private static String pad(long epoch) {
    return String.format("%020d", epoch);
  }
}
