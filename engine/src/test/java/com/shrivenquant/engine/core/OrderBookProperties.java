package com.shrivenquant.engine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/**
 * Random streams of limit/market GTC/IOC orders and cancels against OrderBook and a naive model.
 */
class OrderBookProperties {

  sealed interface Op permits Submit, Cancel {}

  record Submit(
      Side side, OrderType type, long price, long quantity, TimeInForce tif, String account)
      implements Op {}

  /** Cancels the pick-th submitted order (modulo), whatever its state. */
  record Cancel(int pick) implements Op {}

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> limit =
        Combinators.combine(
                Arbitraries.of(Side.class),
                Arbitraries.longs().between(95, 105).withDistribution(RandomDistribution.uniform()),
                Arbitraries.longs().between(1, 20),
                Arbitraries.of(TimeInForce.class),
                Arbitraries.of("a", "b", "c"))
            .as(
                (side, price, qty, tif, acc) ->
                    new Submit(side, OrderType.LIMIT, price, qty, tif, acc));
    Arbitrary<Op> market =
        Combinators.combine(
                Arbitraries.of(Side.class),
                Arbitraries.longs().between(94, 106).withDistribution(RandomDistribution.uniform()),
                Arbitraries.longs().between(1, 40),
                Arbitraries.of(TimeInForce.class),
                Arbitraries.of("a", "b", "c"))
            // 94 and 106 stand for "no protection"; a market GTC must still never rest.
            .as(
                (side, protection, qty, tif, acc) ->
                    new Submit(
                        side,
                        OrderType.MARKET,
                        protection == 94 || protection == 106 ? 0 : protection,
                        qty,
                        tif,
                        acc));
    Arbitrary<Op> cancel = Arbitraries.integers().between(0, 1000).map(Cancel::new);
    Arbitrary<Op> op =
        Arbitraries.frequencyOf(Tuple.of(60, limit), Tuple.of(10, market), Tuple.of(30, cancel));
    return op.list().ofMinSize(1).ofMaxSize(150).withSizeDistribution(RandomDistribution.uniform());
  }

  @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
  void matchesTheNaiveModelAndKeepsInvariants(@ForAll("ops") List<Op> ops) {
    OrderBook book = new OrderBook();
    NaiveBook model = new NaiveBook();
    Map<Long, Submit> submitted = new HashMap<>();
    Map<Long, long[]> done = new HashMap<>(); // id -> {filled, cancelled}
    List<Long> ids = new ArrayList<>();
    long nextId = 1;

    for (Op op : ops) {
      if (op instanceof Submit s) {
        long id = nextId++;
        ids.add(id);
        submitted.put(id, s);
        done.put(id, new long[2]);
        MatchResult r =
            book.submit(
                id, s.side(), s.type(), s.price(), s.quantity(), s.tif(), s.account(), "c" + id);
        assertEquals(model.submit(id, s), r);
        done.get(id)[1] += r.cancelledQuantity();
        for (Fill f : r.fills()) {
          done.get(f.takerOrderId())[0] += f.quantity();
          done.get(f.makerOrderId())[0] += f.quantity();
          Submit maker = submitted.get(f.makerOrderId());
          assertEquals(s.side().opposite(), maker.side());
          // Trade at the maker's price, never worse than the taker's limit or protection.
          assertEquals(maker.price(), f.price());
          long bound = s.price();
          if (bound != 0)
            assertTrue(
                s.side() == Side.BUY ? f.price() <= bound : f.price() >= bound, f.toString());
        }
        checkPriority(book, r.fills(), s.side().opposite());
      } else if (!ids.isEmpty()) {
        long id = ids.get(((Cancel) op).pick() % ids.size());
        var c = book.cancel(id);
        assertEquals(model.cancel(id), c.map(RestingOrder::remainingQuantity).orElse(-1L));
        c.ifPresent(o -> done.get(id)[1] += o.remainingQuantity());
      }

      OptionalLong bid = book.bestBid();
      OptionalLong ask = book.bestAsk();
      if (bid.isPresent() && ask.isPresent())
        assertTrue(bid.getAsLong() < ask.getAsLong(), "crossed book");
      assertEquals(model.resting(), book.restingOrders());
      for (long id : ids) {
        long resting = book.find(id).map(RestingOrder::remainingQuantity).orElse(0L);
        long[] fc = done.get(id);
        assertEquals(
            submitted.get(id).quantity(), fc[0] + resting + fc[1], "quantity of order " + id);
      }
      for (Side side : Side.values()) checkDepth(book, side);
    }
  }

  /**
   * After fills against a side: nothing better, and nothing earlier at a filled price, is left
   * there.
   */
  private static void checkPriority(OrderBook book, List<Fill> fills, Side makerSide) {
    for (Fill f : fills) {
      for (RestingOrder o : book.restingOrders()) {
        if (o.side() != makerSide) continue;
        boolean better = makerSide == Side.SELL ? o.price() < f.price() : o.price() > f.price();
        assertTrue(!better, "better price " + o + " left while trading at " + f);
        assertTrue(
            !(o.price() == f.price() && o.orderId() < f.makerOrderId()),
            "earlier order " + o + " left while " + f + " filled");
      }
    }
  }

  private static void checkDepth(OrderBook book, Side side) {
    Map<Long, long[]> levels = new HashMap<>();
    for (RestingOrder o : book.restingOrders()) {
      if (o.side() == side) {
        long[] l = levels.computeIfAbsent(o.price(), p -> new long[2]);
        l[0] += o.remainingQuantity();
        l[1]++;
      }
    }
    List<Level> depth = book.depth(side, Integer.MAX_VALUE);
    assertEquals(levels.size(), depth.size());
    for (int i = 0; i < depth.size(); i++) {
      Level l = depth.get(i);
      assertEquals(levels.get(l.price())[0], l.quantity());
      assertEquals(levels.get(l.price())[1], l.orders());
      if (i > 0) {
        long prev = depth.get(i - 1).price();
        assertTrue(side == Side.BUY ? prev > l.price() : prev < l.price(), "depth not best first");
      }
    }
  }

  /** Obviously-correct book: a list scanned for the best (price, arrival) on every step. */
  static final class NaiveBook {
    private final List<RestingOrder> orders = new ArrayList<>(); // in arrival order

    MatchResult submit(long id, Submit s) {
      boolean buy = s.side() == Side.BUY;
      long remaining = s.quantity();
      List<Fill> fills = new ArrayList<>();
      while (remaining > 0) {
        int best = -1;
        for (int i = 0; i < orders.size(); i++) {
          RestingOrder o = orders.get(i);
          if (o.side() == s.side()) continue;
          if (best < 0
              || (buy
                  ? o.price() < orders.get(best).price()
                  : o.price() > orders.get(best).price())) best = i;
        }
        if (best < 0) break;
        RestingOrder m = orders.get(best);
        boolean crosses =
            s.type() == OrderType.MARKET && s.price() == 0
                || (buy ? m.price() <= s.price() : m.price() >= s.price());
        if (!crosses) break;
        long q = Math.min(remaining, m.remainingQuantity());
        fills.add(new Fill(m.orderId(), m.account(), id, s.account(), s.side(), m.price(), q));
        remaining -= q;
        if (q == m.remainingQuantity()) orders.remove(best);
        else
          orders.set(
              best,
              new RestingOrder(
                  m.orderId(),
                  m.account(),
                  m.clientOrderId(),
                  m.side(),
                  m.price(),
                  m.originalQuantity(),
                  m.remainingQuantity() - q));
      }
      long resting = 0;
      long cancelled = 0;
      if (remaining > 0 && s.type() == OrderType.LIMIT && s.tif() == TimeInForce.GTC) {
        orders.add(
            new RestingOrder(
                id, s.account(), "c" + id, s.side(), s.price(), s.quantity(), remaining));
        resting = remaining;
      } else {
        cancelled = remaining;
      }
      return new MatchResult(id, fills, s.quantity() - remaining, resting, cancelled);
    }

    long cancel(long id) {
      for (int i = 0; i < orders.size(); i++) {
        if (orders.get(i).orderId() == id) return orders.remove(i).remainingQuantity();
      }
      return -1;
    }

    /** Bids best first then asks best first, arrival order within a price. */
    List<RestingOrder> resting() {
      List<RestingOrder> out = new ArrayList<>();
      for (Side side : Side.values()) {
        orders.stream()
            .filter(o -> o.side() == side)
            .sorted(
                (x, y) ->
                    x.price() != y.price()
                        ? (side == Side.BUY
                            ? Long.compare(y.price(), x.price())
                            : Long.compare(x.price(), y.price()))
                        : 0) // stable sort keeps arrival order
            .forEach(out::add);
      }
      return out;
    }
  }
}
