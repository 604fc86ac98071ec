package com.shrivenquant.engine.core;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The plain-Java core of one instrument: book, pre-trade risk, positions, order records and
 * idempotency memory. Deterministic: the same commands in the same order give the same state,
 * which is what event-sourced replay and cross-region digests rely on.
 *
 * <p>Live path and replay share one code path: {@link #place} is {@link #riskCheck} followed by
 * {@link #applyAccepted} or {@link #applyRejected}; an event-sourced caller persists that
 * decision and applies it. Cancels are replayed by calling {@link #cancel} again.
 *
 * <p>Memory and the idempotency window: an order record is <em>completed</em> once it can no
 * longer change: REJECTED, FILLED, or CANCELLED (IOC/market remainder, or an explicit cancel).
 * Open (resting) orders are always remembered. Completed records are remembered in completion
 * order, and only the last {@code retainedCompletedOrders} of them are kept: completing one more
 * forgets the oldest completed record entirely (its order id and its (account, clientOrderId)).
 * So the idempotency window is <b>all open orders plus the last N completed orders of this
 * instrument</b>; a clientOrderId re-sent after it left the window is a NEW order, and
 * {@link #order}, {@link #orderByClientId} and {@link #previousOutcome} no longer know the old
 * one ({@link #cancel} answers UNKNOWN_ORDER instead of NOT_OPEN). A maker order completes when
 * the order that fills its last quantity is applied (after the earlier makers that order filled,
 * before that order itself). Snapshots carry the completion order, and the state digest covers
 * it, so the window is part of the deterministic state: replicas that compare digests, and an
 * engine replaying a journal, must use the same N. Per completion the cost is O(1) amortized.
 *
 * <p>Not thread-safe: one instrument is driven by one actor.
 */
public final class InstrumentEngine {
    /** Completed order records remembered per instrument unless configured otherwise. */
    public static final int DEFAULT_RETAINED_COMPLETED_ORDERS = 50_000;
    /** Version of the format {@link #snapshotBytes()} writes: its first four bytes. */
    public static final int BINARY_FORMAT = 1;

    private final String instrument;
    private final long referencePrice;
    private RiskLimits limits;

    private final OrderBook book = new OrderBook();
    private final LongHashMap<OrderRecord> orders = new LongHashMap<>(1024);
    private final HashMap<ClientKey, OrderRecord> byClientId = new HashMap<>();
    private final HashMap<String, PositionState> positions = new HashMap<>();
    private long nextOrderId = 1;
    private long lastTradePrice; // 0 = no trade yet
    private long accepted;
    private long rejected;
    private final long[] rejectedByReason = new long[RejectReason.values().length];

    /** Bound on the completed records kept in {@link #orders} / {@link #byClientId}. */
    private final int retainedCompletedOrders;
    /**
     * Completed records, oldest completion first. Holds every retained completed record, plus
     * possibly some already {@link OrderRecord#forgotten} ones (see {@link #forget}), which are
     * skipped; {@link #completedRetained} counts only the former.
     */
    private final ArrayDeque<OrderRecord> completed = new ArrayDeque<>();
    private int completedRetained;

    /** An engine remembering the last {@value #DEFAULT_RETAINED_COMPLETED_ORDERS} completed orders. */
    public InstrumentEngine(String instrument, long referencePrice, RiskLimits limits) {
        this(instrument, referencePrice, limits, DEFAULT_RETAINED_COMPLETED_ORDERS);
    }

    /**
     * @param retainedCompletedOrders how many completed (rejected, filled or cancelled) order
     *                                records to remember, most recently completed first; open
     *                                orders are always remembered. 0 remembers none.
     */
    public InstrumentEngine(String instrument, long referencePrice, RiskLimits limits, int retainedCompletedOrders) {
        if (instrument == null || instrument.isBlank()) throw new IllegalArgumentException("instrument must not be blank");
        if (referencePrice <= 0) throw new IllegalArgumentException("referencePrice must be > 0");
        if (retainedCompletedOrders < 0) throw new IllegalArgumentException("retainedCompletedOrders must be >= 0");
        this.instrument = instrument;
        this.referencePrice = referencePrice;
        this.limits = Objects.requireNonNull(limits, "limits");
        this.retainedCompletedOrders = retainedCompletedOrders;
    }

    // ---------------------------------------------------------------- commands

    /** Places an order: idempotent on (account, clientOrderId), then risk check, then match. */
    public Outcome place(OrderRequest r) {
        OrderRecord seen = byClientId.get(new ClientKey(r.account(), r.clientOrderId()));
        if (seen != null) return seen.outcome;
        Optional<RejectReason> reject = riskCheck(r);
        if (reject.isPresent()) return reject(r, reject.get());
        return applyAccepted(r, nextOrderId);
    }

    /** The risk decision {@link #place} would take now. Does not look at the idempotency memory. */
    public Optional<RejectReason> riskCheck(OrderRequest r) {
        PositionState p = positions.get(r.account());
        if (p == null) return PreTradeRisk.check(r, currentReferencePrice(), limits, 0, 0, 0, 0);
        return PreTradeRisk.check(r, currentReferencePrice(), limits, p.net, p.openBuy, p.openSell, p.openOrders);
    }

    /**
     * Applies an accepted order without any risk check (the decision was already taken and
     * recorded). The protection price of a MARKET order is recomputed from the current reference
     * price and limits; a journal that may replay under different limits should record
     * {@link #effectivePrice} and use {@link #applyAccepted(OrderRequest, long, long)}.
     */
    public Outcome applyAccepted(OrderRequest r, long expectedOrderId) {
        return applyAccepted(r, expectedOrderId, effectivePrice(r));
    }

    /**
     * Applies an accepted order, matching with the given price bound.
     *
     * <p>A clientOrderId that this engine still remembers from a completed order is forgotten
     * first: the journal is authoritative, and the engine that took the decision had already
     * forgotten it (it ran with a smaller retention, e.g. before the configured bound was raised).
     *
     * @param effectivePrice the limit price, or for MARKET the protection price (0 = none)
     * @throws IllegalStateException if expectedOrderId is not the next id or the
     *                               clientOrderId belongs to an open order: the replay diverged
     */
    public Outcome applyAccepted(OrderRequest r, long expectedOrderId, long effectivePrice) {
        if (expectedOrderId != nextOrderId) {
            throw new IllegalStateException(instrument + ": replay diverged, expected order id "
                    + expectedOrderId + " but the next id is " + nextOrderId);
        }
        ClientKey key = new ClientKey(r.account(), r.clientOrderId());
        OrderRecord previous = byClientId.get(key);
        if (previous != null && previous.open()) {
            throw new IllegalStateException(instrument + ": clientOrderId already used by open order: " + key);
        }
        if (r.type() == OrderType.LIMIT && effectivePrice != r.price()) {
            throw new IllegalArgumentException("a limit order matches at its own price");
        }
        if (previous != null) forget(previous);
        long orderId = nextOrderId++;
        accepted++;
        PositionState taker = positionState(r.account());
        // One String instance per account, shared by its records, book entries and fills: less
        // memory, and a snapshot finds an account's index without reading the string.
        String account = taker.account;
        OrderRecord rec = new OrderRecord(orderId, key, account, r.clientOrderId(), r.side(), r.type(),
                r.timeInForce(), r.price(), effectivePrice, r.quantity());
        MatchResult m = book.submit(orderId, r.side(), r.type(), effectivePrice, r.quantity(), r.timeInForce(),
                account, r.clientOrderId(), rec);

        boolean takerBuys = r.side() == Side.BUY;
        for (Fill f : m.fills()) {
            long q = f.quantity();
            long notional = f.price() * q; // cannot overflow: the maker's notional passed the risk check
            OrderRecord maker = orders.get(f.makerOrderId());
            PositionState mp = positionState(f.makerAccount());
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
                complete(maker);
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
        rec.outcome = new Outcome(orderId, account, r.clientOrderId(), status, null, m.fills(),
                m.filledQuantity(), resting, m.cancelledQuantity());
        orders.put(orderId, rec);
        byClientId.put(key, rec);
        if (resting == 0) complete(rec);
        return rec.outcome;
    }

    /**
     * Applies (or replays) a rejection: remembered for idempotency (as a completed record) and
     * counted. Like {@link #applyAccepted(OrderRequest, long, long)}, it forgets a completed
     * record with the same clientOrderId and throws if an open order has it.
     */
    public void applyRejected(OrderRequest r, RejectReason reason) {
        reject(r, reason);
    }

    private Outcome reject(OrderRequest r, RejectReason reason) {
        Objects.requireNonNull(reason, "reason");
        ClientKey key = new ClientKey(r.account(), r.clientOrderId());
        OrderRecord previous = byClientId.get(key);
        if (previous != null) {
            if (previous.open()) {
                throw new IllegalStateException(instrument + ": clientOrderId already used by open order: " + key);
            }
            forget(previous);
        }
        OrderRecord rec = new OrderRecord(0, key, r, 0);
        rec.status = OrderStatus.REJECTED;
        rec.rejectReason = reason;
        rec.outcome = Outcome.rejected(r, reason);
        byClientId.put(key, rec);
        rejected++;
        rejectedByReason[reason.ordinal()]++;
        complete(rec);
        return rec.outcome;
    }

    /**
     * Cancels a resting order of this account. Only a CANCELLED result changes state. An order
     * that completed and has since been forgotten (see the class comment) is UNKNOWN_ORDER.
     */
    public CancelResult cancel(String account, long orderId) {
        OrderRecord rec = orders.get(orderId);
        if (rec == null) return CancelResult.of(CancelResult.Status.UNKNOWN_ORDER, orderId);
        // Ownership first, so another account learns nothing about the order's state.
        if (!rec.account.equals(account)) return CancelResult.of(CancelResult.Status.WRONG_ACCOUNT, orderId);
        if (rec.remaining == 0) return CancelResult.of(CancelResult.Status.NOT_OPEN, orderId);

        RestingOrder out = book.cancel(orderId)
                .orElseThrow(() -> new IllegalStateException(instrument + ": order " + orderId + " open but not in book"));
        PositionState p = positions.get(account);
        if (rec.side == Side.BUY) p.openBuy -= out.remainingQuantity();
        else p.openSell -= out.remainingQuantity();
        p.openOrders--;
        rec.cancelled += rec.remaining;
        rec.remaining = 0;
        rec.status = OrderStatus.CANCELLED;
        complete(rec);
        return new CancelResult(CancelResult.Status.CANCELLED, orderId, out, out.remainingQuantity());
    }

    /** Cancel by the client's own id; a rejected request was never open. */
    public CancelResult cancelByClientId(String account, String clientOrderId) {
        OrderRecord rec = byClientId.get(new ClientKey(account, clientOrderId));
        if (rec == null) return CancelResult.of(CancelResult.Status.UNKNOWN_ORDER, 0);
        if (rec.orderId == 0) return CancelResult.of(CancelResult.Status.NOT_OPEN, 0);
        return cancel(account, rec.orderId);
    }

    /** Records that rec can no longer change; forgets the oldest completed record beyond the bound. */
    private void complete(OrderRecord rec) {
        completed.addLast(rec);
        if (++completedRetained > retainedCompletedOrders) evictOldestCompleted();
    }

    private void evictOldestCompleted() {
        OrderRecord oldest;
        do {
            oldest = completed.pollFirst();
        } while (oldest.forgotten);
        forget(oldest);
    }

    /**
     * Removes a retained completed record from the order and clientOrderId maps. When it is not
     * the oldest it stays in {@link #completed}, marked, until it reaches the front: no scan.
     */
    private void forget(OrderRecord rec) {
        rec.forgotten = true;
        byClientId.remove(rec.key);
        if (rec.orderId != 0) orders.remove(rec.orderId);
        completedRetained--;
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
        return retainedCompletedOrders;
    }

    /** How many completed order records are remembered now (at most {@link #retainedCompletedOrders()}). */
    public int completedOrdersInMemory() {
        return completedRetained;
    }

    /** The id the next accepted order gets. */
    public long nextOrderId() {
        return nextOrderId;
    }

    public Optional<OrderView> order(long orderId) {
        OrderRecord rec = orders.get(orderId);
        return rec == null ? Optional.empty() : Optional.of(rec.view());
    }

    public Optional<OrderView> orderByClientId(String account, String clientOrderId) {
        OrderRecord rec = byClientId.get(new ClientKey(account, clientOrderId));
        return rec == null ? Optional.empty() : Optional.of(rec.view());
    }

    public Optional<Outcome> previousOutcome(String account, String clientOrderId) {
        OrderRecord rec = byClientId.get(new ClientKey(account, clientOrderId));
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
        PositionState p = positions.get(account);
        return p == null ? PositionView.empty(account) : p.view();
    }

    /** Every account that traded or has open orders, sorted by account. */
    public List<PositionView> positions() {
        List<PositionView> out = new ArrayList<>(positions.size());
        for (PositionState p : positions.values()) out.add(p.view());
        out.sort(Comparator.comparing(PositionView::account));
        return out;
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
     * remembered completed records in completion order (oldest first), which {@link #restore}
     * relies on. Costs O(open orders + retained completed records) and one object graph of that
     * size: an event-sourced caller should persist {@link #snapshotBytes()} instead.
     */
    public EngineSnapshot snapshot() {
        List<RestingOrder> resting = book.restingOrders();
        OrderRecord[] open = new OrderRecord[resting.size()];
        for (int i = 0; i < open.length; i++) open[i] = orders.get(resting.get(i).orderId());
        Arrays.sort(open, BY_ORDER_ID);
        List<EngineSnapshot.OrderEntry> entries = new ArrayList<>(open.length + completedRetained);
        for (OrderRecord rec : open) entries.add(rec.entry());
        for (OrderRecord rec : completed) {
            if (!rec.forgotten) entries.add(rec.entry());
        }
        return new EngineSnapshot(EngineSnapshot.CURRENT_FORMAT, instrument, nextOrderId, lastTradePrice,
                accepted, rejected, rejectedByReason(), resting, positions(), entries);
    }

    /** {@link #restore(EngineSnapshot, long, RiskLimits, int)} with the default retention. */
    public static InstrumentEngine restore(EngineSnapshot s, long referencePrice, RiskLimits limits) {
        return restore(s, referencePrice, limits, DEFAULT_RETAINED_COMPLETED_ORDERS);
    }

    /**
     * Rebuilds an engine from {@link #snapshot()}. If the snapshot holds more completed records
     * than retainedCompletedOrders (the bound was lowered), the oldest completed are forgotten.
     *
     * <p>Format 1 snapshots (written before completed records were bounded: every record, sorted
     * by order id, rejections first) are accepted too. They do not carry the completion order, so
     * their completed records are taken in that list order. The restored engine then agrees with
     * one that replayed the whole journal only once both have completed N more orders (the older
     * records are forgotten by then), and a retry of an old clientOrderId in between may see a
     * slightly different window.
     *
     * @throws IllegalArgumentException if the snapshot is not one an engine could have written:
     *                                  among others, a resting order must equal its order record,
     *                                  and an original outcome and its fills must name the record's
     *                                  order (the binary form relies on both)
     */
    public static InstrumentEngine restore(EngineSnapshot s, long referencePrice, RiskLimits limits,
                                           int retainedCompletedOrders) {
        if (s.formatVersion() != EngineSnapshot.CURRENT_FORMAT && s.formatVersion() != EngineSnapshot.FORMAT_UNBOUNDED) {
            throw new IllegalArgumentException("unsupported snapshot format " + s.formatVersion());
        }
        InstrumentEngine e = new InstrumentEngine(s.instrument(), referencePrice, limits, retainedCompletedOrders);
        e.nextOrderId = s.nextOrderId();
        e.lastTradePrice = s.lastTradePrice();
        e.accepted = s.accepted();
        e.rejected = s.rejected();
        s.rejectedByReason().forEach((reason, n) -> e.rejectedByReason[reason.ordinal()] = n);
        int open = 0;
        for (EngineSnapshot.OrderEntry entry : s.orders()) {
            OrderRecord rec = OrderRecord.from(entry.order(), entry.originalOutcome());
            e.restoreRecord(rec);
            if (rec.open()) open++;
        }
        while (e.completedRetained > retainedCompletedOrders) e.evictOldestCompleted();
        for (PositionView p : s.positions()) e.positions.put(p.account(), PositionState.from(p));
        for (RestingOrder o : s.restingOrders()) {
            OrderRecord rec = e.orders.get(o.orderId());
            if (rec == null || rec.remaining != o.remainingQuantity() || !rec.account.equals(o.account())
                    || !rec.clientOrderId.equals(o.clientOrderId()) || rec.side != o.side()
                    || rec.effectivePrice != o.price() || rec.quantity != o.originalQuantity()) {
                throw new IllegalArgumentException("resting order " + o.orderId() + " does not match its order record");
            }
            e.book.restore(o.orderId(), o.side(), o.price(), o.originalQuantity(), o.remainingQuantity(), rec.account,
                    rec.clientOrderId, rec);
        }
        if (open != s.restingOrders().size()) {
            throw new IllegalArgumentException(open + " open order records but " + s.restingOrders().size()
                    + " resting orders");
        }
        return e;
    }

    /**
     * The full state in a compact binary form, written in one pass straight from the live
     * structures: no intermediate objects, one byte array of about 25 bytes plus the clientOrderId
     * per open or retained completed order, and 4-8 per fill. Deterministic: equal states give equal
     * bytes, so it is also what {@link #stateDigest()} hashes. Restored by {@link #restoreBytes}.
     * Costs O(open orders + retained completed records + accounts log accounts).
     *
     * <p>Format {@value #BINARY_FORMAT}. Notation: {@code u} = unsigned LEB128 varint (7 bits a
     * byte, low first; a negative long takes 10 bytes), {@code s} = zigzag varint, {@code b} =
     * one byte, {@code str} = u byte length then UTF-8 (an unpaired surrogate as its three-byte
     * form), {@code acct} = u index into the account table, which starts empty; the index equal to
     * the table's size is followed by a str and adds it (so an account is spelled out once, where
     * it first occurs). Enums are stable codes, not ordinals (see {@link Codes}); an optional
     * reject reason is 0 for none, else code + 1.
     * <pre>
     *   int32 big-endian  format version
     *   str   instrument
     *   u     nextOrderId, lastTradePrice (0 = none), accepted, rejected
     *   u     R; then R x u: rejected count per reject reason code 0..R-1
     *   u     P; then P positions, by account: acct, s net, u bought, u sold, u buyNotional,
     *                              u sellNotional, u openBuy, u openSell, u openOrders
     *   u     O; then O open order records, in book priority order: bids best price first, then
     *            asks best price first, in time priority within a price (this list is the book)
     *   u     C; then C retained completed records, oldest completion first
     *   record:  u orderId (0 if rejected), acct, str clientOrderId, b side, b type, b timeInForce,
     *            u price, u effectivePrice, u quantity, u filled, u remaining, u cancelled,
     *            b status, b rejectReason,
     *            original outcome: b status, b rejectReason, u filled, u remaining, u cancelled,
     *            u F; then F fills: u makerOrderId, acct makerAccount, u price, u quantity
     * </pre>
     * An outcome's order id, account and clientOrderId, and each of its fills' taker order id,
     * taker account and taker side, are the record's. A resting order is its record: the record's
     * id, account, clientOrderId, side, effectivePrice (= its limit price), quantity (original)
     * and remaining.
     */
    public byte[] snapshotBytes() {
        return writeState().toByteArray();
    }

    private ByteWriter writeState() {
        int records = book.orderCount() + completedRetained;
        ByteWriter out = new ByteWriter(128 + 48 * positions.size() + 64 * records);
        out.int32(BINARY_FORMAT);
        out.string(instrument);
        out.uvarint(nextOrderId);
        out.uvarint(lastTradePrice);
        out.uvarint(accepted);
        out.uvarint(rejected);
        out.uvarint(Codes.REJECT_REASONS.length);
        for (RejectReason r : Codes.REJECT_REASONS) out.uvarint(rejectedByReason[r.ordinal()]);

        AccountTable accounts = new AccountTable();
        PositionState[] byAccount = positions.values().toArray(new PositionState[0]);
        Arrays.sort(byAccount, BY_ACCOUNT);
        out.uvarint(byAccount.length);
        for (PositionState p : byAccount) {
            accounts.write(out, p.account);
            out.svarint(p.net);
            out.uvarint(p.bought);
            out.uvarint(p.sold);
            out.uvarint(p.buyNotional);
            out.uvarint(p.sellNotional);
            out.uvarint(p.openBuy);
            out.uvarint(p.openSell);
            out.uvarint(p.openOrders);
        }

        out.uvarint(book.orderCount());
        book.forEachResting((id, tag) -> {
            if (!(tag instanceof OrderRecord rec) || rec.orderId != id || !rec.open()) {
                throw new IllegalStateException(instrument + ": resting order " + id + " has no open record");
            }
            writeRecord(out, accounts, rec);
        });
        out.uvarint(completedRetained);
        int written = 0;
        for (OrderRecord rec : completed) {
            if (rec.forgotten) continue;
            writeRecord(out, accounts, rec);
            written++;
        }
        if (written != completedRetained) {
            throw new IllegalStateException(instrument + ": " + written + " completed records but counted " + completedRetained);
        }
        return out;
    }

    private static void writeRecord(ByteWriter out, AccountTable accounts, OrderRecord r) {
        out.uvarint(r.orderId);
        accounts.write(out, r.account);
        out.string(r.clientOrderId);
        out.byte1(Codes.code(r.side));
        out.byte1(Codes.code(r.type));
        out.byte1(Codes.code(r.tif));
        out.uvarint(r.price);
        out.uvarint(r.effectivePrice);
        out.uvarint(r.quantity);
        out.uvarint(r.filled);
        out.uvarint(r.remaining);
        out.uvarint(r.cancelled);
        out.byte1(Codes.code(r.status));
        out.byte1(Codes.optionalCode(r.rejectReason));
        Outcome o = r.outcome;
        out.byte1(Codes.code(o.status()));
        out.byte1(Codes.optionalCode(o.rejectReason()));
        out.uvarint(o.filledQuantity());
        out.uvarint(o.remainingQuantity());
        out.uvarint(o.cancelledQuantity());
        List<Fill> fills = o.fills();
        out.uvarint(fills.size());
        for (int i = 0, n = fills.size(); i < n; i++) {
            Fill f = fills.get(i);
            out.uvarint(f.makerOrderId());
            accounts.write(out, f.makerAccount());
            out.uvarint(f.price());
            out.uvarint(f.quantity());
        }
    }

    /**
     * Rebuilds an engine from {@link #snapshotBytes()}, as {@link #restore(EngineSnapshot, long,
     * RiskLimits, int)} does from the records: if the bytes hold more completed records than
     * retainedCompletedOrders, the oldest completed are forgotten.
     *
     * @throws IllegalArgumentException if the bytes are not a snapshot of a supported format, are
     *                                  truncated or have bytes left over, or describe a state no
     *                                  engine could be in (duplicate ids, an open record whose
     *                                  status or order type cannot rest, ...)
     */
    public static InstrumentEngine restoreBytes(byte[] data, long referencePrice, RiskLimits limits,
                                                int retainedCompletedOrders) {
        ByteReader in = new ByteReader(Objects.requireNonNull(data, "data"));
        int format = in.int32();
        if (format != BINARY_FORMAT) throw new IllegalArgumentException("unsupported binary snapshot format " + format);
        InstrumentEngine e = new InstrumentEngine(in.string(), referencePrice, limits, retainedCompletedOrders);
        e.nextOrderId = in.uvarint();
        e.lastTradePrice = in.uvarint();
        e.accepted = in.uvarint();
        e.rejected = in.uvarint();
        int reasons = in.count(1);
        if (reasons != Codes.REJECT_REASONS.length) throw in.corrupt(reasons + " reject reasons");
        for (RejectReason r : Codes.REJECT_REASONS) e.rejectedByReason[r.ordinal()] = in.uvarint();

        List<String> accounts = new ArrayList<>();
        int positions = in.count(9);
        for (int i = 0; i < positions; i++) {
            PositionState p = new PositionState(readAccount(in, accounts));
            p.net = in.svarint();
            p.bought = in.uvarint();
            p.sold = in.uvarint();
            p.buyNotional = in.uvarint();
            p.sellNotional = in.uvarint();
            p.openBuy = in.uvarint();
            p.openSell = in.uvarint();
            p.openOrders = in.uint();
            if (e.positions.put(p.account, p) != null) throw in.corrupt("second position of " + p.account);
        }

        int open = in.count(MIN_RECORD_BYTES);
        for (int i = 0; i < open; i++) {
            OrderRecord rec = readRecord(in, accounts);
            if (!rec.open()) throw in.corrupt("order " + rec.orderId + " in the book has nothing remaining");
            e.restoreRecord(rec);
            e.book.restore(rec.orderId, rec.side, rec.effectivePrice, rec.quantity, rec.remaining, rec.account,
                    rec.clientOrderId, rec);
        }
        int done = in.count(MIN_RECORD_BYTES);
        for (int i = 0; i < done; i++) {
            OrderRecord rec = readRecord(in, accounts);
            if (rec.open()) throw in.corrupt("completed order " + rec.orderId + " has quantity remaining");
            e.restoreRecord(rec);
        }
        in.expectEnd();
        while (e.completedRetained > retainedCompletedOrders) e.evictOldestCompleted();
        return e;
    }

    /** The fewest bytes a record can take: 10 one-byte varints, 9 bytes, an empty string's length. */
    private static final int MIN_RECORD_BYTES = 20;

    private static OrderRecord readRecord(ByteReader in, List<String> accounts) {
        long orderId = in.uvarint();
        String account = readAccount(in, accounts);
        String clientOrderId = in.string();
        Side side = Codes.side(in);
        OrderType type = Codes.type(in);
        TimeInForce tif = Codes.timeInForce(in);
        long price = in.uvarint();
        long effectivePrice = in.uvarint();
        long quantity = in.uvarint();
        OrderRecord rec = new OrderRecord(orderId, new ClientKey(account, clientOrderId), account, clientOrderId,
                side, type, tif, price, effectivePrice, quantity);
        rec.filled = in.uvarint();
        rec.remaining = in.uvarint();
        rec.cancelled = in.uvarint();
        rec.status = Codes.status(in);
        rec.rejectReason = Codes.optionalReason(in);
        OrderStatus status = Codes.status(in);
        RejectReason reason = Codes.optionalReason(in);
        long filled = in.uvarint();
        long remaining = in.uvarint();
        long cancelled = in.uvarint();
        int n = in.count(4);
        Fill[] fills = new Fill[n];
        for (int i = 0; i < n; i++) {
            long makerOrderId = in.uvarint();
            String makerAccount = readAccount(in, accounts);
            long fillPrice = in.uvarint();
            long fillQuantity = in.uvarint();
            fills[i] = new Fill(makerOrderId, makerAccount, orderId, account, side, fillPrice, fillQuantity);
        }
        rec.outcome = new Outcome(orderId, account, clientOrderId, status, reason, List.of(fills), filled, remaining,
                cancelled);
        return rec;
    }

    private static String readAccount(ByteReader in, List<String> accounts) {
        int i = in.uint();
        if (i < accounts.size()) return accounts.get(i);
        if (i > accounts.size()) throw in.corrupt("account " + i + " of " + accounts.size());
        String account = in.string();
        accounts.add(account);
        return account;
    }

    /**
     * Adds a record taken from a snapshot to the maps, and to the completion order if completed.
     * Checks what both snapshot forms rely on.
     */
    private void restoreRecord(OrderRecord rec) {
        if (byClientId.put(rec.key, rec) != null) {
            throw new IllegalArgumentException("duplicate clientOrderId in snapshot: " + rec.clientOrderId);
        }
        if (rec.orderId != 0 && orders.put(rec.orderId, rec) != null) {
            throw new IllegalArgumentException("duplicate order id in snapshot: " + rec.orderId);
        }
        boolean openStatus = rec.status == OrderStatus.NEW || rec.status == OrderStatus.PARTIALLY_FILLED;
        if (openStatus != rec.open() || (rec.open() && (rec.orderId == 0 || rec.type != OrderType.LIMIT
                || rec.tif != TimeInForce.GTC || rec.price != rec.effectivePrice))) {
            throw new IllegalArgumentException("order record " + rec.orderId + "/" + rec.clientOrderId
                    + " is " + rec.status + " " + rec.type + " " + rec.tif + " with remaining quantity " + rec.remaining);
        }
        Outcome o = rec.outcome;
        if (o.orderId() != rec.orderId || !o.account().equals(rec.account) || !o.clientOrderId().equals(rec.clientOrderId)) {
            throw new IllegalArgumentException("the outcome of order record " + rec.orderId + "/" + rec.clientOrderId
                    + " is for another order: " + o.orderId() + "/" + o.account() + "/" + o.clientOrderId());
        }
        for (Fill f : o.fills()) {
            if (f.takerOrderId() != rec.orderId || !f.takerAccount().equals(rec.account) || f.takerSide() != rec.side) {
                throw new IllegalArgumentException("a fill of order record " + rec.orderId + " has another taker: " + f);
            }
        }
        if (!rec.open()) {
            completed.addLast(rec);
            completedRetained++;
        }
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
        writeState().digestInto(sha);
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The bytes the digest is taken over ({@link #snapshotBytes()}); for diagnosing digest mismatches. */
    public byte[] canonicalState() {
        return snapshotBytes();
    }

    private PositionState positionState(String account) {
        PositionState p = positions.get(account);
        if (p == null) {
            p = new PositionState(account);
            positions.put(account, p);
        }
        return p;
    }

    private static final Comparator<OrderRecord> BY_ORDER_ID = Comparator.comparingLong((OrderRecord r) -> r.orderId);
    private static final Comparator<PositionState> BY_ACCOUNT = Comparator.comparing((PositionState p) -> p.account);

    private record ClientKey(String account, String clientOrderId) {
    }

    /** Mutable state of one order or rejected request. */
    private static final class OrderRecord {
        final long orderId;
        final ClientKey key;
        final String account;
        final String clientOrderId;
        final Side side;
        final OrderType type;
        final TimeInForce tif;
        final long price;
        final long effectivePrice;
        final long quantity;
        long filled;
        long remaining;
        long cancelled;
        OrderStatus status;
        RejectReason rejectReason;
        Outcome outcome;
        /** Completed and no longer remembered (it may still sit in {@link #completed}). */
        boolean forgotten;

        OrderRecord(long orderId, ClientKey key, OrderRequest r, long effectivePrice) {
            this(orderId, key, r.account(), r.clientOrderId(), r.side(), r.type(), r.timeInForce(), r.price(),
                    effectivePrice, r.quantity());
        }

        OrderRecord(long orderId, ClientKey key, String account, String clientOrderId, Side side, OrderType type,
                    TimeInForce tif, long price, long effectivePrice, long quantity) {
            this.orderId = orderId;
            this.key = key;
            this.account = account;
            this.clientOrderId = clientOrderId;
            this.side = side;
            this.type = type;
            this.tif = tif;
            this.price = price;
            this.effectivePrice = effectivePrice;
            this.quantity = quantity;
        }

        static OrderRecord from(OrderView v, Outcome outcome) {
            OrderRecord rec = new OrderRecord(v.orderId(), new ClientKey(v.account(), v.clientOrderId()), v.account(),
                    v.clientOrderId(), v.side(), v.type(), v.timeInForce(), v.price(), v.effectivePrice(), v.quantity());
            rec.filled = v.filledQuantity();
            rec.remaining = v.remainingQuantity();
            rec.cancelled = v.cancelledQuantity();
            rec.status = v.status();
            rec.rejectReason = v.rejectReason();
            rec.outcome = Objects.requireNonNull(outcome, "originalOutcome");
            return rec;
        }

        /** Still resting in the book; a record with nothing remaining can no longer change. */
        boolean open() {
            return remaining > 0;
        }

        EngineSnapshot.OrderEntry entry() {
            return new EngineSnapshot.OrderEntry(view(), outcome);
        }

        OrderView view() {
            return new OrderView(orderId, account, clientOrderId, side, type, tif, price, effectivePrice, quantity,
                    filled, remaining, cancelled, status, rejectReason);
        }
    }

    private static final class PositionState {
        final String account;
        long net;
        long bought;
        long sold;
        long buyNotional;
        long sellNotional;
        long openBuy;
        long openSell;
        int openOrders;

        PositionState(String account) {
            this.account = account;
        }

        void bought(long q, long notional) {
            net += q;
            bought += q;
            buyNotional += notional;
        }

        void sold(long q, long notional) {
            net -= q;
            sold += q;
            sellNotional += notional;
        }

        PositionView view() {
            return new PositionView(account, net, bought, sold, buyNotional, sellNotional, openBuy, openSell, openOrders);
        }

        static PositionState from(PositionView v) {
            PositionState p = new PositionState(v.account());
            p.net = v.netQuantity();
            p.bought = v.boughtQuantity();
            p.sold = v.soldQuantity();
            p.buyNotional = v.buyNotional();
            p.sellNotional = v.sellNotional();
            p.openBuy = v.openBuyQuantity();
            p.openSell = v.openSellQuantity();
            p.openOrders = v.openOrders();
            return p;
        }
    }

    /** Accounts of one binary snapshot being written: each spelled out once, then referred to by index. */
    private static final class AccountTable {
        private final HashMap<String, Integer> index = new HashMap<>();
        private String last;
        private int lastIndex;

        void write(ByteWriter out, String account) {
            if (account == last) { // the same String instance: common, e.g. one account's orders in a row
                out.uvarint(lastIndex);
                return;
            }
            Integer i = index.get(account);
            if (i == null) {
                i = index.size();
                index.put(account, i);
                out.uvarint(i);
                out.string(account);
            } else {
                out.uvarint(i);
            }
            last = account;
            lastIndex = i;
        }
    }

    /**
     * The codes of enum constants in the binary snapshot: a constant's position in these arrays,
     * never its ordinal, so that reordering or extending an enum cannot change what stored bytes
     * mean. Append only; a constant missing here fails at class initialization.
     */
    static final class Codes {
        static final Side[] SIDES = {Side.BUY, Side.SELL};
        static final OrderType[] TYPES = {OrderType.LIMIT, OrderType.MARKET};
        static final TimeInForce[] TIME_IN_FORCE = {TimeInForce.GTC, TimeInForce.IOC};
        static final OrderStatus[] STATUSES = {OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED,
                OrderStatus.CANCELLED, OrderStatus.REJECTED};
        static final RejectReason[] REJECT_REASONS = {RejectReason.MAX_ORDER_QUANTITY, RejectReason.MAX_NOTIONAL,
                RejectReason.PRICE_BAND, RejectReason.POSITION_LIMIT, RejectReason.OPEN_ORDER_LIMIT};

        private static final byte[] SIDE_CODE = byOrdinal(SIDES, Side.values().length);
        private static final byte[] TYPE_CODE = byOrdinal(TYPES, OrderType.values().length);
        private static final byte[] TIF_CODE = byOrdinal(TIME_IN_FORCE, TimeInForce.values().length);
        private static final byte[] STATUS_CODE = byOrdinal(STATUSES, OrderStatus.values().length);
        private static final byte[] REASON_CODE = byOrdinal(REJECT_REASONS, RejectReason.values().length);

        private Codes() {
        }

        private static byte[] byOrdinal(Enum<?>[] codes, int constants) {
            byte[] out = new byte[constants];
            Arrays.fill(out, (byte) -1);
            for (int code = 0; code < codes.length; code++) {
                if (out[codes[code].ordinal()] != -1) throw new IllegalStateException("two snapshot codes for " + codes[code]);
                out[codes[code].ordinal()] = (byte) code;
            }
            for (byte code : out) {
                if (code == -1) throw new IllegalStateException("an enum constant has no snapshot code");
            }
            return out;
        }

        static int code(Side v) {
            return SIDE_CODE[v.ordinal()];
        }

        static int code(OrderType v) {
            return TYPE_CODE[v.ordinal()];
        }

        static int code(TimeInForce v) {
            return TIF_CODE[v.ordinal()];
        }

        static int code(OrderStatus v) {
            return STATUS_CODE[v.ordinal()];
        }

        /** 0 for none, else the reason's code + 1. */
        static int optionalCode(RejectReason v) {
            return v == null ? 0 : REASON_CODE[v.ordinal()] + 1;
        }

        static Side side(ByteReader in) {
            return decode(in, SIDES, in.byte1());
        }

        static OrderType type(ByteReader in) {
            return decode(in, TYPES, in.byte1());
        }

        static TimeInForce timeInForce(ByteReader in) {
            return decode(in, TIME_IN_FORCE, in.byte1());
        }

        static OrderStatus status(ByteReader in) {
            return decode(in, STATUSES, in.byte1());
        }

        static RejectReason optionalReason(ByteReader in) {
            int code = in.byte1();
            return code == 0 ? null : decode(in, REJECT_REASONS, code - 1);
        }

        private static <E extends Enum<E>> E decode(ByteReader in, E[] codes, int code) {
            if (code >= codes.length) throw in.corrupt("no " + codes[0].getDeclaringClass().getSimpleName() + " with code " + code);
            return codes[code];
        }
    }
}
