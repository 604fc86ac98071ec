package com.shrivenquant.engine.core;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The plain-Java core of one instrument: book, pre-trade risk, positions ({@link Positions}), order
 * records and idempotency memory ({@link OrderRecords}). Deterministic: the same commands in the
 * same order give the same state, which is what event-sourced replay and cross-region digests rely
 * on.
 *
 * <p>Live path and replay share one code path: {@link #place} is {@link #riskCheck} followed by
 * {@link #applyAccepted} or {@link #applyRejected}; an event-sourced caller persists that decision
 * and applies it. Cancels are replayed by calling {@link #cancel} again.
 *
 * <p>Memory and the idempotency window: an order record is <em>completed</em> once it can no longer
 * change: REJECTED, FILLED, or CANCELLED (IOC/market remainder, or an explicit cancel). Open
 * (resting) orders are always remembered. Completed records are remembered in completion order, and
 * only the last {@code retainedCompletedOrders} of them are kept: completing one more forgets the
 * oldest completed record entirely (its order id and its (account, clientOrderId)). So the
 * idempotency window is <b>all open orders plus the last N completed orders of this instrument</b>;
 * a clientOrderId re-sent after it left the window is a NEW order, and {@link #order}, {@link
 * #orderByClientId} and {@link #previousOutcome} no longer know the old one ({@link #cancel}
 * answers UNKNOWN_ORDER instead of NOT_OPEN). A maker order completes when the order that fills its
 * last quantity is applied (after the earlier makers that order filled, before that order itself).
 * Snapshots carry the completion order, and the state digest covers it, so the window is part of
 * the deterministic state: replicas that compare digests, and an engine replaying a journal, must
 * use the same N. Per completion the cost is O(1) amortized.
 *
 * <p>Not thread-safe: one instrument is driven by one actor.
 */
public final class InstrumentEngine {
  /** Completed order records remembered per instrument unless configured otherwise. */
  public static final int DEFAULT_RETAINED_COMPLETED_ORDERS = 50_000;

  /** Version of the format {@link #snapshotBytes()} writes: its first four bytes. */
  public static final int BINARY_FORMAT = BinarySnapshotCodec.FORMAT;

  private final String instrument;
  private final long referencePrice;
  private RiskLimits limits;

  // Package-private for the snapshot codecs, which write and restore them.
  final OrderBook book = new OrderBook();
  final OrderRecords records;
  final Positions positions = new Positions();
  long nextOrderId = 1;
  long lastTradePrice; // 0 = no trade yet
  long accepted;
  long rejected;
  final long[] rejectedByReason = new long[RejectReason.values().length];

  /**
   * An engine remembering the last {@value #DEFAULT_RETAINED_COMPLETED_ORDERS} completed orders.
   */
  public InstrumentEngine(String instrument, long referencePrice, RiskLimits limits) {
    this(instrument, referencePrice, limits, DEFAULT_RETAINED_COMPLETED_ORDERS);
  }

  /**
   * @param retainedCompletedOrders how many completed (rejected, filled or cancelled) order records
   *     to remember, most recently completed first; open orders are always remembered. 0 remembers
   *     none.
   */
  public InstrumentEngine(
      String instrument, long referencePrice, RiskLimits limits, int retainedCompletedOrders) {
    if (instrument == null || instrument.isBlank())
      throw new IllegalArgumentException("instrument must not be blank");
    if (referencePrice <= 0) throw new IllegalArgumentException("referencePrice must be > 0");
    if (retainedCompletedOrders < 0)
      throw new IllegalArgumentException("retainedCompletedOrders must be >= 0");
    this.instrument = instrument;
    this.referencePrice = referencePrice;
    this.limits = Objects.requireNonNull(limits, "limits");
    this.records = new OrderRecords(retainedCompletedOrders);
  }

  // ---------------------------------------------------------------- commands

  /** Places an order: idempotent on (account, clientOrderId), then risk check, then match. */
  public Outcome place(OrderRequest r) {
    OrderRecord seen = records.byClientId(r.account(), r.clientOrderId());
    if (seen != null) return seen.outcome;
    Optional<RejectReason> reject = riskCheck(r);
    if (reject.isPresent()) return reject(r, reject.get());
    return applyAccepted(r, nextOrderId);
  }

  /** The risk decision {@link #place} would take now. Does not look at the idempotency memory. */
  public Optional<RejectReason> riskCheck(OrderRequest r) {
    PositionState p = positions.get(r.account());
    if (p == null) return PreTradeRisk.check(r, currentReferencePrice(), limits, 0, 0, 0, 0);
    return PreTradeRisk.check(
        r, currentReferencePrice(), limits, p.net, p.openBuy, p.openSell, p.openOrders);
  }

  /**
   * Applies an accepted order without any risk check (the decision was already taken and recorded).
   * The protection price of a MARKET order is recomputed from the current reference price and
   * limits; a journal that may replay under different limits should record {@link #effectivePrice}
   * and use {@link #applyAccepted(OrderRequest, long, long)}.
   */
  public Outcome applyAccepted(OrderRequest r, long expectedOrderId) {
    return applyAccepted(r, expectedOrderId, effectivePrice(r));
  }

  /**
   * Applies an accepted order, matching with the given price bound.
   *
   * <p>A clientOrderId that this engine still remembers from a completed order is forgotten first:
   * the journal is authoritative, and the engine that took the decision had already forgotten it
   * (it ran with a smaller retention, e.g. before the configured bound was raised).
   *
   * @param effectivePrice the limit price, or for MARKET the protection price (0 = none)
   * @throws IllegalStateException if expectedOrderId is not the next id or the clientOrderId
   *     belongs to an open order: the replay diverged
   */
  public Outcome applyAccepted(OrderRequest r, long expectedOrderId, long effectivePrice) {
    if (expectedOrderId != nextOrderId) {
      throw new IllegalStateException(
          instrument
              + ": replay diverged, expected order id "
              + expectedOrderId
              + " but the next id is "
              + nextOrderId);
    }
    ClientKey key = new ClientKey(r.account(), r.clientOrderId());
    OrderRecord previous = records.byClientId(key);
    if (previous != null && previous.open()) {
      throw new IllegalStateException(
          instrument + ": clientOrderId already used by open order: " + key);
    }
    if (r.type() == OrderType.LIMIT && effectivePrice != r.price()) {
      throw new IllegalArgumentException("a limit order matches at its own price");
    }
    if (previous != null) records.forget(previous);
    long orderId = nextOrderId++;
    accepted++;
    PositionState taker = positions.getOrCreate(r.account());
    // One String instance per account, shared by its records, book entries and fills: less
    // memory, and a snapshot finds an account's index without reading the string.
    String account = taker.account;
    OrderRecord rec =
        new OrderRecord(
            orderId,
            key,
            account,
            r.clientOrderId(),
            r.side(),
            r.type(),
            r.timeInForce(),
            r.price(),
            effectivePrice,
            r.quantity());
    MatchResult m =
        book.submit(
            orderId,
            r.side(),
            r.type(),
            effectivePrice,
            r.quantity(),
            r.timeInForce(),
            account,
            r.clientOrderId(),
            rec);

    boolean takerBuys = r.side() == Side.BUY;
    for (Fill f : m.fills()) {
      long q = f.quantity();
      long notional = f.price() * q; // cannot overflow: the maker's notional passed the risk check
      OrderRecord maker = records.byOrderId(f.makerOrderId());
      PositionState mp = positions.getOrCreate(f.makerAccount());
      if (takerBuys) {
        taker.bought(q, notional);
        mp.sold(q, notional);
        mp.openSell -= q;
      } else {
        taker.sold(q, notional);
        mp.bought(q, notional);
        mp.openBuy -= q;
      }
      maker.filled += q;
      maker.remaining -= q;
      if (maker.remaining == 0) {
        maker.status = OrderStatus.FILLED;
        mp.openOrders--;
        records.complete(maker);
      } else {
        maker.status = OrderStatus.PARTIALLY_FILLED;
      }
      lastTradePrice = f.price();
    }

    long resting = m.restingQuantity();
    OrderStatus status;
    if (resting > 0) {
      status = m.filledQuantity() > 0 ? OrderStatus.PARTIALLY_FILLED : OrderStatus.NEW;
      if (takerBuys) taker.openBuy += resting;
      else taker.openSell += resting;
      taker.openOrders++;
    } else {
      status = m.cancelledQuantity() > 0 ? OrderStatus.CANCELLED : OrderStatus.FILLED;
    }

    rec.filled = m.filledQuantity();
    rec.remaining = resting;
    rec.cancelled = m.cancelledQuantity();
    rec.status = status;
    rec.outcome =
        new Outcome(
            orderId,
            account,
            r.clientOrderId(),
            status,
            null,
            m.fills(),
            m.filledQuantity(),
            resting,
            m.cancelledQuantity());
    records.addAccepted(rec);
    if (resting == 0) records.complete(rec);
    return rec.outcome;
  }

  /**
   * Applies (or replays) a rejection: remembered for idempotency (as a completed record) and
   * counted. Like {@link #applyAccepted(OrderRequest, long, long)}, it forgets a completed record
   * with the same clientOrderId and throws if an open order has it.
   */
  public void applyRejected(OrderRequest r, RejectReason reason) {
    reject(r, reason);
  }

  private Outcome reject(OrderRequest r, RejectReason reason) {
    Objects.requireNonNull(reason, "reason");
    ClientKey key = new ClientKey(r.account(), r.clientOrderId());
    OrderRecord previous = records.byClientId(key);
    if (previous != null) {
      if (previous.open()) {
        throw new IllegalStateException(
            instrument + ": clientOrderId already used by open order: " + key);
      }
      records.forget(previous);
    }
    OrderRecord rec = new OrderRecord(0, key, r, 0);
    rec.status = OrderStatus.REJECTED;
    rec.rejectReason = reason;
    rec.outcome = Outcome.rejected(r, reason);
    records.addRejected(rec);
    rejected++;
    rejectedByReason[reason.ordinal()]++;
    records.complete(rec);
    return rec.outcome;
  }

  /**
   * Cancels a resting order of this account. Only a CANCELLED result changes state. An order that
   * completed and has since been forgotten (see the class comment) is UNKNOWN_ORDER.
   */
  public CancelResult cancel(String account, long orderId) {
    OrderRecord rec = records.byOrderId(orderId);
    if (rec == null) return CancelResult.of(CancelResult.Status.UNKNOWN_ORDER, orderId);
    // Ownership first, so another account learns nothing about the order's state.
    if (!rec.account.equals(account))
      return CancelResult.of(CancelResult.Status.WRONG_ACCOUNT, orderId);
    if (rec.remaining == 0) return CancelResult.of(CancelResult.Status.NOT_OPEN, orderId);

    RestingOrder out =
        book.cancel(orderId)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        instrument + ": order " + orderId + " open but not in book"));
    PositionState p = positions.get(account);
    if (rec.side == Side.BUY) p.openBuy -= out.remainingQuantity();
    else p.openSell -= out.remainingQuantity();
    p.openOrders--;
    rec.cancelled += rec.remaining;
    rec.remaining = 0;
    rec.status = OrderStatus.CANCELLED;
    records.complete(rec);
    return new CancelResult(CancelResult.Status.CANCELLED, orderId, out, out.remainingQuantity());
  }

  /** Cancel by the client's own id; a rejected request was never open. */
  public CancelResult cancelByClientId(String account, String clientOrderId) {
    OrderRecord rec = records.byClientId(account, clientOrderId);
    if (rec == null) return CancelResult.of(CancelResult.Status.UNKNOWN_ORDER, 0);
    if (rec.orderId == 0) return CancelResult.of(CancelResult.Status.NOT_OPEN, 0);
    return cancel(account, rec.orderId);
  }

  /** Limits apply to decisions from now on; replayed decisions are not re-checked. */
  public void updateLimits(RiskLimits newLimits) {
    this.limits = Objects.requireNonNull(newLimits, "limits");
  }

  // ---------------------------------------------------------------- queries

  public String instrument() {
    return instrument;
  }

  public RiskLimits limits() {
    return limits;
  }

  /** Last trade price if any, else the configured reference price. */
  public long currentReferencePrice() {
    return lastTradePrice > 0 ? lastTradePrice : referencePrice;
  }

  /** The price bound an accepted order would match with now (protection price for MARKET). */
  public long effectivePrice(OrderRequest r) {
    return r.type() == OrderType.LIMIT
        ? r.price()
        : PreTradeRisk.protectionPrice(r.side(), currentReferencePrice(), limits);
  }

  /** The configured bound on remembered completed order records. */
  public int retainedCompletedOrders() {
    return records.retainedCompletedOrders();
  }

  /**
   * How many completed order records are remembered now (at most {@link
   * #retainedCompletedOrders()}).
   */
  public int completedOrdersInMemory() {
    return records.completedRetained();
  }

  /** The id the next accepted order gets. */
  public long nextOrderId() {
    return nextOrderId;
  }

  public Optional<OrderView> order(long orderId) {
    OrderRecord rec = records.byOrderId(orderId);
    return rec == null ? Optional.empty() : Optional.of(rec.view());
  }

  public Optional<OrderView> orderByClientId(String account, String clientOrderId) {
    OrderRecord rec = records.byClientId(account, clientOrderId);
    return rec == null ? Optional.empty() : Optional.of(rec.view());
  }

  public Optional<Outcome> previousOutcome(String account, String clientOrderId) {
    OrderRecord rec = records.byClientId(account, clientOrderId);
    return rec == null ? Optional.empty() : Optional.of(rec.outcome);
  }

  public List<Level> depth(Side side, int levels) {
    return book.depth(side, levels);
  }

  public OptionalLong bestBid() {
    return book.bestBid();
  }

  public OptionalLong bestAsk() {
    return book.bestAsk();
  }

  public List<RestingOrder> restingOrders() {
    return book.restingOrders();
  }

  /** Orders resting in the book now. */
  public int openOrders() {
    return book.orderCount();
  }

  public PositionView position(String account) {
    return positions.view(account);
  }

  /** Every account that traded or has open orders, sorted by account. */
  public List<PositionView> positions() {
    return positions.views();
  }

  public OptionalLong lastTradePrice() {
    return lastTradePrice > 0 ? OptionalLong.of(lastTradePrice) : OptionalLong.empty();
  }

  public long accepted() {
    return accepted;
  }

  public long rejected() {
    return rejected;
  }

  /** Every reason, zeros included. */
  public Map<RejectReason, Long> rejectedByReason() {
    EnumMap<RejectReason, Long> out = new EnumMap<>(RejectReason.class);
    for (RejectReason r : RejectReason.values()) out.put(r, rejectedByReason[r.ordinal()]);
    return Collections.unmodifiableMap(out);
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * The full state as records. Its {@code orders} are the open orders by order id, then the
   * remembered completed records in completion order (oldest first), which {@link #restore} relies
   * on. Costs O(open orders + retained completed records) and one object graph of that size: an
   * event-sourced caller should persist {@link #snapshotBytes()} instead.
   */
  public EngineSnapshot snapshot() {
    return RecordSnapshotCodec.write(this);
  }

  /** {@link #restore(EngineSnapshot, long, RiskLimits, int)} with the default retention. */
  public static InstrumentEngine restore(EngineSnapshot s, long referencePrice, RiskLimits limits) {
    return restore(s, referencePrice, limits, DEFAULT_RETAINED_COMPLETED_ORDERS);
  }

  /**
   * Rebuilds an engine from {@link #snapshot()}. If the snapshot holds more completed records than
   * retainedCompletedOrders (the bound was lowered), the oldest completed are forgotten.
   *
   * <p>Format 1 snapshots (written before completed records were bounded: every record, sorted by
   * order id, rejections first) are accepted too. They do not carry the completion order, so their
   * completed records are taken in that list order. The restored engine then agrees with one that
   * replayed the whole journal only once both have completed N more orders (the older records are
   * forgotten by then), and a retry of an old clientOrderId in between may see a slightly different
   * window.
   *
   * @throws IllegalArgumentException if the snapshot is not one an engine could have written: among
   *     others, a resting order must equal its order record, and an original outcome and its fills
   *     must name the record's order (the binary form relies on both)
   */
  public static InstrumentEngine restore(
      EngineSnapshot s, long referencePrice, RiskLimits limits, int retainedCompletedOrders) {
    return RecordSnapshotCodec.read(s, referencePrice, limits, retainedCompletedOrders);
  }

  /**
   * The full state in a compact binary form ({@link BinarySnapshotCodec} describes format {@value
   * #BINARY_FORMAT}). Deterministic: equal states give equal bytes, so it is also what {@link
   * #stateDigest()} hashes. Restored by {@link #restoreBytes}.
   */
  public byte[] snapshotBytes() {
    return BinarySnapshotCodec.write(this).toByteArray();
  }

  /**
   * Rebuilds an engine from {@link #snapshotBytes()}, as {@link #restore(EngineSnapshot, long,
   * RiskLimits, int)} does from the records: if the bytes hold more completed records than
   * retainedCompletedOrders, the oldest completed are forgotten.
   *
   * @throws IllegalArgumentException if the bytes are not a snapshot of a supported format, are
   *     truncated or have bytes left over, or describe a state no engine could be in (duplicate
   *     ids, an open record whose status or order type cannot rest, ...)
   */
  public static InstrumentEngine restoreBytes(
      byte[] data, long referencePrice, RiskLimits limits, int retainedCompletedOrders) {
    return BinarySnapshotCodec.read(data, referencePrice, limits, retainedCompletedOrders);
  }

  /**
   * SHA-256 (hex) of {@link #snapshotBytes()}: the book in priority order, positions by account,
   * order records and idempotency memory (open orders, then the remembered completed ones in
   * completion order), counters, next order id and last trade price. Equal digests mean equal
   * state, whatever the region or JVM, as long as both run the same binary snapshot format.
   */
  public String stateDigest() {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    BinarySnapshotCodec.write(this).digestInto(sha);
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * The bytes the digest is taken over ({@link #snapshotBytes()}); for diagnosing digest
   * mismatches.
   */
  public byte[] canonicalState() {
    return snapshotBytes();
  }
}
