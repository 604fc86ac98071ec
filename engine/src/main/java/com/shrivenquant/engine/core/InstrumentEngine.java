package com.shrivenquant.engine.core;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
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
        MatchResult m = book.submit(orderId, r.side(), r.type(), effectivePrice, r.quantity(), r.timeInForce(),
                r.account(), r.clientOrderId());

        PositionState taker = positionState(r.account());
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

        OrderRecord rec = new OrderRecord(orderId, key, r, effectivePrice);
        rec.filled = m.filledQuantity();
        rec.remaining = resting;
        rec.cancelled = m.cancelledQuantity();
        rec.status = status;
        rec.outcome = new Outcome(orderId, r.account(), r.clientOrderId(), status, null, m.fills(),
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
     * The full state. Its {@code orders} are the open orders by order id, then the remembered
     * completed records in completion order (oldest first), which {@link #restore} relies on.
     * Costs O(open orders + retained completed records).
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
            if (e.byClientId.put(rec.key, rec) != null) {
                throw new IllegalArgumentException("duplicate clientOrderId in snapshot: " + rec.clientOrderId);
            }
            if (rec.orderId != 0 && e.orders.put(rec.orderId, rec) != null) {
                throw new IllegalArgumentException("duplicate order id in snapshot: " + rec.orderId);
            }
            boolean openStatus = rec.status == OrderStatus.NEW || rec.status == OrderStatus.PARTIALLY_FILLED;
            if (openStatus != rec.open() || (rec.open() && rec.orderId == 0)) {
                throw new IllegalArgumentException("order record " + rec.orderId + "/" + rec.clientOrderId
                        + " is " + rec.status + " with remaining quantity " + rec.remaining);
            }
            if (rec.open()) {
                open++;
            } else {
                e.completed.addLast(rec);
                e.completedRetained++;
            }
        }
        while (e.completedRetained > retainedCompletedOrders) e.evictOldestCompleted();
        for (PositionView p : s.positions()) e.positions.put(p.account(), PositionState.from(p));
        for (RestingOrder o : s.restingOrders()) {
            OrderRecord rec = e.orders.get(o.orderId());
            if (rec == null || rec.remaining != o.remainingQuantity()) {
                throw new IllegalArgumentException("resting order " + o.orderId() + " does not match its order record");
            }
            e.book.restore(o);
        }
        if (open != s.restingOrders().size()) {
            throw new IllegalArgumentException(open + " open order records but " + s.restingOrders().size()
                    + " resting orders");
        }
        return e;
    }

    /**
     * SHA-256 (hex) over a canonical binary encoding of {@link #snapshot()}: the book in priority
     * order, positions by account, order records and idempotency memory (open orders, then the
     * remembered completed ones in completion order), counters, next order id and last trade
     * price. Equal digests mean equal state, whatever the region or JVM.
     */
    public String stateDigest() {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (DataOutputStream out = new DataOutputStream(new DigestOutputStream(OutputStream.nullOutputStream(), sha))) {
            Canonical.write(out, snapshot());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The canonical encoding the digest is taken over; exposed for diagnosing digest mismatches. */
    public byte[] canonicalState() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            Canonical.write(out, snapshot());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
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

    /** Length-prefixed, fixed-order encoding: no separators that a field value could fake. */
    private static final class Canonical {
        static void write(DataOutputStream out, EngineSnapshot s) throws IOException {
            out.writeInt(s.formatVersion());
            str(out, s.instrument());
            out.writeLong(s.nextOrderId());
            out.writeLong(s.lastTradePrice());
            out.writeLong(s.accepted());
            out.writeLong(s.rejected());
            for (RejectReason r : RejectReason.values()) out.writeLong(s.rejectedByReason().getOrDefault(r, 0L));
            out.writeInt(s.restingOrders().size());
            for (RestingOrder o : s.restingOrders()) {
                out.writeLong(o.orderId());
                str(out, o.account());
                str(out, o.clientOrderId());
                en(out, o.side());
                out.writeLong(o.price());
                out.writeLong(o.originalQuantity());
                out.writeLong(o.remainingQuantity());
            }
            out.writeInt(s.positions().size());
            for (PositionView p : s.positions()) {
                str(out, p.account());
                out.writeLong(p.netQuantity());
                out.writeLong(p.boughtQuantity());
                out.writeLong(p.soldQuantity());
                out.writeLong(p.buyNotional());
                out.writeLong(p.sellNotional());
                out.writeLong(p.openBuyQuantity());
                out.writeLong(p.openSellQuantity());
                out.writeInt(p.openOrders());
            }
            out.writeInt(s.orders().size());
            for (EngineSnapshot.OrderEntry e : s.orders()) {
                OrderView v = e.order();
                out.writeLong(v.orderId());
                str(out, v.account());
                str(out, v.clientOrderId());
                en(out, v.side());
                en(out, v.type());
                en(out, v.timeInForce());
                out.writeLong(v.price());
                out.writeLong(v.effectivePrice());
                out.writeLong(v.quantity());
                out.writeLong(v.filledQuantity());
                out.writeLong(v.remainingQuantity());
                out.writeLong(v.cancelledQuantity());
                en(out, v.status());
                en(out, v.rejectReason());
                Outcome o = e.originalOutcome();
                out.writeLong(o.orderId());
                str(out, o.account());
                str(out, o.clientOrderId());
                en(out, o.status());
                en(out, o.rejectReason());
                out.writeLong(o.filledQuantity());
                out.writeLong(o.remainingQuantity());
                out.writeLong(o.cancelledQuantity());
                out.writeInt(o.fills().size());
                for (Fill f : o.fills()) {
                    out.writeLong(f.makerOrderId());
                    str(out, f.makerAccount());
                    out.writeLong(f.takerOrderId());
                    str(out, f.takerAccount());
                    en(out, f.takerSide());
                    out.writeLong(f.price());
                    out.writeLong(f.quantity());
                }
            }
        }

        private static void str(DataOutputStream out, String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            out.writeInt(b.length);
            out.write(b);
        }

        private static void en(DataOutputStream out, Enum<?> e) throws IOException {
            out.writeInt(e == null ? -1 : e.ordinal());
        }
    }
}
