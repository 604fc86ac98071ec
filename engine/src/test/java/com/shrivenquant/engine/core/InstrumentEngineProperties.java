package com.shrivenquant.engine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

/**
 * Random order/cancel streams through InstrumentEngine. Tight limits so that every reject
 * reason, duplicate clientOrderIds and foreign cancels all occur.
 */
class InstrumentEngineProperties {
    static final long REFERENCE = 1_000;
    static final RiskLimits LIMITS = new RiskLimits(100, 60_000, 1_000, 80, 3);
    static final String[] ACCOUNTS = {"a", "b", "c", "d"};

    @Provide
    Arbitrary<List<EngineDriver.Command>> commands() {
        Arbitrary<String> account = Arbitraries.of(ACCOUNTS);
        Arbitrary<String> cid = Arbitraries.integers().between(0, 80).withDistribution(RandomDistribution.uniform()).map(i -> "c" + i);
        Arbitrary<Long> qty = Arbitraries.frequencyOf(
                Tuple.of(9, Arbitraries.longs().between(1, 30).withDistribution(RandomDistribution.uniform())),
                Tuple.of(1, Arbitraries.longs().between(31, 150).withDistribution(RandomDistribution.uniform())));
        Arbitrary<EngineDriver.Command> limit = Combinators.combine(account, cid, Arbitraries.of(Side.class),
                        Arbitraries.longs().between(890, 1110).withDistribution(RandomDistribution.uniform()), qty, Arbitraries.of(TimeInForce.class))
                .as((a, c, side, price, q, tif) -> new EngineDriver.Place(OrderRequest.limit(a, c, side, price, q, tif)));
        Arbitrary<EngineDriver.Command> market = Combinators.combine(account, cid, Arbitraries.of(Side.class), qty)
                .as((a, c, side, q) -> new EngineDriver.Place(OrderRequest.market(a, c, side, q)));
        // "own" is resolved to the order's owner when run, so that most cancels can succeed.
        Arbitrary<String> canceller = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just("own")), Tuple.of(1, account));
        Arbitrary<EngineDriver.Command> cancel = Combinators.combine(canceller, Arbitraries.longs().between(0, 30).withDistribution(RandomDistribution.uniform()))
                .as(EngineDriver.Cancel::new);
        return Arbitraries.frequencyOf(Tuple.of(60, limit), Tuple.of(10, market), Tuple.of(30, cancel))
                .list().ofMinSize(1).ofMaxSize(120).withSizeDistribution(RandomDistribution.uniform());
    }

    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void invariantsHoldAndReplayGivesTheSameState(@ForAll("commands") List<EngineDriver.Command> commands,
                                                   @ForAll @IntRange(min = 0, max = 120) int snapshotAt) {
        InstrumentEngine engine = new InstrumentEngine("X", REFERENCE, LIMITS);
        List<EngineDriver.Event> journal = new ArrayList<>();
        InstrumentEngine restored = null;
        int cut = Math.min(snapshotAt, commands.size());

        for (int i = 0; i < commands.size(); i++) {
            if (i == cut) restored = InstrumentEngine.restore(engine.snapshot(), REFERENCE, LIMITS);
            EngineDriver.Command c = commands.get(i);
            if (c instanceof EngineDriver.Cancel k && k.account().equals("own")) {
                c = new EngineDriver.Cancel(engine.order(k.orderId()).map(OrderView::account).orElse("a"), k.orderId());
            }
            String before = engine.stateDigest();
            Object previous = c instanceof EngineDriver.Place p
                    ? engine.previousOutcome(p.request().account(), p.request().clientOrderId()).orElse(null)
                    : null;

            Object result = EngineDriver.run(engine, c, journal);
            if (restored != null) assertEquals(result, EngineDriver.run(restored, c, new ArrayList<>()), "restored engine");

            if (previous != null) {
                assertSame(previous, result, "a retry returns the original outcome");
                assertEquals(before, engine.stateDigest(), "a retry changes nothing");
            }
            if (result instanceof CancelResult cr && cr.status() != CancelResult.Status.CANCELLED) {
                assertEquals(before, engine.stateDigest(), "a failed cancel changes nothing");
            }
            if (result instanceof Outcome o && previous == null) {
                checkOutcome(engine, o);
                Statistics.label("outcome").collect(o.rejectReason() != null ? o.rejectReason().name() : o.status().name());
            }
            if (result instanceof CancelResult cr) Statistics.label("cancel").collect(cr.status().name());
            checkInvariants(engine);
        }
        if (restored == null) restored = InstrumentEngine.restore(engine.snapshot(), REFERENCE, LIMITS);

        InstrumentEngine replayed = new InstrumentEngine("X", REFERENCE, new RiskLimits(1, 1, 0, 0, 0));
        EngineDriver.replay(replayed, journal);
        assertEquals(engine.stateDigest(), replayed.stateDigest(), "replay");
        assertEquals(engine.stateDigest(), restored.stateDigest(), "snapshot at " + cut + " then same commands");
    }

    private static void checkOutcome(InstrumentEngine engine, Outcome o) {
        if (o.status() == OrderStatus.REJECTED) return;
        OrderView taker = engine.order(o.orderId()).orElseThrow();
        assertTrue(taker.quantity() <= LIMITS.maxOrderQuantity());
        assertEquals(taker.quantity(), o.filledQuantity() + o.remainingQuantity() + o.cancelledQuantity());
        for (Fill f : o.fills()) {
            OrderView maker = engine.order(f.makerOrderId()).orElseThrow();
            assertEquals(maker.price(), f.price(), "trade at the maker's price");
            long bound = taker.effectivePrice();
            assertTrue(taker.side() == Side.BUY ? f.price() <= bound : f.price() >= bound, "trade beyond taker limit");
            // Priority: nothing better, nor earlier at the same price, is left on the maker's side.
            for (RestingOrder r : engine.restingOrders()) {
                if (r.side() != maker.side()) continue;
                assertTrue(maker.side() == Side.SELL ? r.price() >= f.price() : r.price() <= f.price());
                assertTrue(r.price() != f.price() || r.orderId() >= f.makerOrderId(), "earlier order left: " + r);
            }
        }
    }

    private static void checkInvariants(InstrumentEngine engine) {
        OptionalLong bid = engine.bestBid();
        OptionalLong ask = engine.bestAsk();
        if (bid.isPresent() && ask.isPresent()) assertTrue(bid.getAsLong() < ask.getAsLong(), "crossed book");

        long net = 0;
        long bought = 0;
        long sold = 0;
        long buyNotional = 0;
        long sellNotional = 0;
        Map<String, long[]> open = new HashMap<>(); // account -> {openBuy, openSell, orders}
        for (RestingOrder r : engine.restingOrders()) {
            long[] o = open.computeIfAbsent(r.account(), a -> new long[3]);
            o[r.side() == Side.BUY ? 0 : 1] += r.remainingQuantity();
            o[2]++;
            OrderView v = engine.order(r.orderId()).orElseThrow();
            assertEquals(v.remainingQuantity(), r.remainingQuantity());
        }
        for (String account : ACCOUNTS) {
            PositionView p = engine.position(account);
            net += p.netQuantity();
            bought += p.boughtQuantity();
            sold += p.soldQuantity();
            buyNotional += p.buyNotional();
            sellNotional += p.sellNotional();
            long[] o = open.getOrDefault(account, new long[3]);
            assertEquals(o[0], p.openBuyQuantity(), "open buy of " + account);
            assertEquals(o[1], p.openSellQuantity(), "open sell of " + account);
            assertEquals(o[2], p.openOrders(), "open orders of " + account);
            assertEquals(p.boughtQuantity() - p.soldQuantity(), p.netQuantity());
            // Worst-case position checks keep even the all-fill case within the limit.
            assertTrue(p.netQuantity() + p.openBuyQuantity() <= LIMITS.maxPosition(), p.toString());
            assertTrue(p.netQuantity() - p.openSellQuantity() >= -LIMITS.maxPosition(), p.toString());
            assertTrue(p.openOrders() <= LIMITS.maxOpenOrders(), p.toString());
        }
        assertEquals(0, net, "positions sum to zero");
        assertEquals(bought, sold);
        assertEquals(buyNotional, sellNotional);

        for (long id = 1; id < engine.nextOrderId(); id++) {
            OrderView v = engine.order(id).orElseThrow();
            assertEquals(v.quantity(), v.filledQuantity() + v.remainingQuantity() + v.cancelledQuantity(), v.toString());
        }
        assertEquals(engine.nextOrderId() - 1, engine.accepted());
        assertEquals(engine.rejected(), engine.rejectedByReason().values().stream().mapToLong(Long::longValue).sum());
    }
}
