package com.shrivenquant.bench.matching;

import com.shrivenquant.engine.core.InstrumentEngine;
import com.shrivenquant.engine.core.MatchResult;
import com.shrivenquant.engine.core.OrderBook;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.OrderStatus;
import com.shrivenquant.engine.core.OrderType;
import com.shrivenquant.engine.core.RestingOrder;
import com.shrivenquant.engine.core.RiskLimits;
import com.shrivenquant.engine.core.Side;
import com.shrivenquant.engine.core.TimeInForce;
import exchange.core2.collections.objpool.ObjectsPool;
import exchange.core2.core.common.CoreSymbolSpecification;
import exchange.core2.core.common.MatcherEventType;
import exchange.core2.core.common.MatcherTradeEvent;
import exchange.core2.core.common.OrderAction;
import exchange.core2.core.common.SymbolType;
import exchange.core2.core.common.cmd.CommandResultCode;
import exchange.core2.core.common.cmd.OrderCommand;
import exchange.core2.core.common.cmd.OrderCommandType;
import exchange.core2.core.common.config.LoggingConfiguration;
import exchange.core2.core.orderbook.IOrderBook;
import exchange.core2.core.orderbook.OrderBookDirectImpl;
import exchange.core2.core.orderbook.OrderBookEventsHelper;
import exchange.core2.core.orderbook.OrderBookNaiveImpl;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Replays one seeded order stream (about 60 % limit GTC near mid, 10 % IOC limit / market, 30 %
 * cancels of live orders, 8 accounts) through our matching core and through exchange-core 0.5.3's
 * order books, from an empty book each invocation. Score = orders and cancels processed per second.
 *
 * <p>Run (after {@code mvn -o -pl bench -am package -DskipTests}):
 *
 * <pre>
 * java -cp 'bench/target/classes:bench/target/lib/*' org.openjdk.jmh.Main MatchingBenchmark
 * java -cp 'bench/target/classes:bench/target/lib/*' org.openjdk.jmh.Main MatchingBenchmark -f 1 -wi 2 -i 3 -w 2s -r 3s
 * </pre>
 *
 * <p>Fairness: all variants see the same commands, pre-built outside the measurement; books are
 * created in an untimed per-invocation setup. Both sides allocate per trade (our Fill records,
 * exchange-core's non-pooled MatcherTradeEvent). {@link Stream#verify} checks once per trial that
 * both implementations trade the same volume and leave the same book. {@code ourInstrumentEngine}
 * additionally does risk checks, positions, order records and idempotency memory, so it is not a
 * like-for-like comparison with a bare book.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(MatchingBenchmark.OPS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
public class MatchingBenchmark {
  static final int OPS = 200_000;

  static final byte PLACE = 0;
  static final byte CANCEL = 1;
  static final int ACCOUNTS = 8;
  static final long START_MID = 100_000;

  /** The command stream, as parallel arrays so that replay does not chase pointers we added. */
  @State(Scope.Benchmark)
  public static class Stream {
    @Param("42")
    public long seed;

    final byte[] kind = new byte[OPS];
    final long[] orderId = new long[OPS];
    final Side[] side = new Side[OPS];
    final OrderType[] type = new OrderType[OPS];
    final TimeInForce[] tif = new TimeInForce[OPS];
    final long[] price = new long[OPS]; // limit price, or protection price for market (0 = none)
    final long[] qty = new long[OPS];
    final int[] account = new int[OPS];
    final OrderRequest[] request = new OrderRequest[OPS];
    final String[] accountName = new String[ACCOUNTS];
    long places;
    long cancels;

    @Setup(Level.Trial)
    public void generate() {
      for (int a = 0; a < ACCOUNTS; a++) accountName[a] = "acc" + a;
      Random rnd = new Random(seed);
      OrderBook sim = new OrderBook(); // tells which orders are still live, for cancels
      List<long[]> live = new ArrayList<>(); // {orderId, account}
      long mid = START_MID;
      long nextId = 1;
      for (int i = 0; i < OPS; i++) {
        if (rnd.nextInt(10) == 0) mid += rnd.nextInt(5) - 2;
        int roll = rnd.nextInt(100);
        if (roll < 30 && pickLive(rnd, sim, live, i)) {
          sim.cancel(orderId[i]);
          cancels++;
          continue;
        }
        Side s = rnd.nextBoolean() ? Side.BUY : Side.SELL;
        int sign = s == Side.BUY ? -1 : 1;
        int acc = rnd.nextInt(ACCOUNTS);
        long q = 1 + rnd.nextInt(100);
        OrderType t = OrderType.LIMIT;
        TimeInForce f = TimeInForce.GTC;
        long p;
        if (roll >= 95) { // market, mostly with a protection price
          t = OrderType.MARKET;
          f = TimeInForce.IOC;
          p = rnd.nextInt(4) == 0 ? 0 : mid - sign * 50;
        } else if (roll >= 90) { // aggressive IOC limit
          f = TimeInForce.IOC;
          p = mid - sign * rnd.nextInt(10);
        } else { // GTC near mid, some crossing
          p = mid + sign * (rnd.nextInt(25) - 4);
        }
        kind[i] = PLACE;
        orderId[i] = nextId++;
        side[i] = s;
        type[i] = t;
        tif[i] = f;
        price[i] = p;
        qty[i] = q;
        account[i] = acc;
        request[i] =
            new OrderRequest(
                accountName[acc], "c" + orderId[i], s, t, t == OrderType.MARKET ? 0 : p, q, f);
        MatchResult r = sim.submit(orderId[i], s, t, p, q, f, accountName[acc], "c" + orderId[i]);
        if (r.restingQuantity() > 0) live.add(new long[] {orderId[i], acc});
        places++;
      }
      verify(sim);
    }

    /** Fills slot i with a cancel of a random live order; false if none is live. */
    private boolean pickLive(Random rnd, OrderBook sim, List<long[]> live, int i) {
      while (!live.isEmpty()) {
        int k = rnd.nextInt(live.size());
        long[] o = live.get(k);
        live.set(k, live.get(live.size() - 1));
        live.remove(live.size() - 1);
        if (sim.isResting(o[0])) {
          kind[i] = CANCEL;
          orderId[i] = o[0];
          account[i] = (int) o[1];
          return true;
        }
      }
      return false;
    }

    private static List<String> shape(List<RestingOrder> book) {
      return book.stream()
          .map(o -> o.orderId() + "@" + o.price() + "x" + o.remainingQuantity())
          .toList();
    }

    /**
     * Same stream through exchange-core and our engine must trade the same volume and leave the
     * same book.
     */
    private void verify(OrderBook sim) {
      long ourVolume = 0;
      OrderBook ours = new OrderBook();
      for (int i = 0; i < OPS; i++) {
        if (kind[i] == PLACE) {
          MatchResult r =
              ours.submit(
                  orderId[i],
                  side[i],
                  type[i],
                  price[i],
                  qty[i],
                  tif[i],
                  accountName[account[i]],
                  "c");
          ourVolume += r.filledQuantity();
        } else {
          ours.cancel(orderId[i]);
        }
      }
      ExchangeCoreBook ec = new ExchangeCoreBook();
      ec.direct = true;
      ec.create();
      long ecVolume = 0;
      for (int i = 0; i < OPS; i++) {
        ec.apply(this, i);
        for (MatcherTradeEvent e = ec.cmd.matcherEvent; e != null; e = e.nextEvent) {
          if (e.eventType == MatcherEventType.TRADE) ecVolume += e.size;
        }
        if (kind[i] == CANCEL && ec.cmd.resultCode != CommandResultCode.SUCCESS) {
          throw new IllegalStateException("exchange-core did not cancel live order " + orderId[i]);
        }
      }
      long ourBids = ours.restingOrders().stream().filter(o -> o.side() == Side.BUY).count();
      long ourAsks = ours.restingOrders().size() - ourBids;
      if (ourVolume != ecVolume
          || ourBids != ec.book.getOrdersNum(OrderAction.BID)
          || ourAsks != ec.book.getOrdersNum(OrderAction.ASK)
          || !shape(sim.restingOrders()).equals(shape(ours.restingOrders()))) {
        throw new IllegalStateException(
            "implementations disagree: volume "
                + ourVolume
                + " vs "
                + ecVolume
                + ", bids "
                + ourBids
                + " vs "
                + ec.book.getOrdersNum(OrderAction.BID)
                + ", asks "
                + ourAsks
                + " vs "
                + ec.book.getOrdersNum(OrderAction.ASK));
      }
      InstrumentEngine engine = EngineState.newEngine();
      for (int i = 0; i < OPS; i++) {
        if (kind[i] == PLACE && engine.place(request[i]).status() == OrderStatus.REJECTED) {
          throw new IllegalStateException("engine rejected " + request[i]);
        }
        if (kind[i] == CANCEL) engine.cancel(accountName[account[i]], orderId[i]);
      }
      List<RestingOrder> engineBook = engine.restingOrders();
      if (engineBook.size() != ours.orderCount())
        throw new IllegalStateException("engine book differs");
      System.out.printf(
          "%nstream: %d places, %d cancels, traded volume %d, %d orders resting at the end%n",
          places, cancels, ourVolume, ours.orderCount());
    }
  }

  @State(Scope.Thread)
  public static class OurBook {
    OrderBook book;

    @Setup(Level.Invocation)
    public void create() {
      book = new OrderBook();
    }
  }

  @State(Scope.Thread)
  public static class EngineState {
    InstrumentEngine engine;

    // Wide enough that the stream is never rejected: ids then match the stream's ids.
    static InstrumentEngine newEngine() {
      return new InstrumentEngine(
          "BENCH",
          START_MID,
          new RiskLimits(
              1_000_000, Long.MAX_VALUE / 4, 10_000, Long.MAX_VALUE / 4, Integer.MAX_VALUE));
    }

    @Setup(Level.Invocation)
    public void create() {
      engine = newEngine();
    }
  }

  @State(Scope.Thread)
  public static class ExchangeCoreBook {
    @Param({"true"})
    public boolean direct;

    IOrderBook book;
    final OrderCommand cmd = new OrderCommand();

    @Setup(Level.Invocation)
    public void create() {
      CoreSymbolSpecification spec =
          CoreSymbolSpecification.builder()
              .symbolId(1)
              .type(SymbolType.FUTURES_CONTRACT)
              .baseCurrency(0)
              .quoteCurrency(1)
              .baseScaleK(1)
              .quoteScaleK(1)
              .build();
      book =
          direct
              ? new OrderBookDirectImpl(
                  spec,
                  ObjectsPool.createDefaultTestPool(),
                  OrderBookEventsHelper.NON_POOLED_EVENTS_HELPER,
                  LoggingConfiguration.DEFAULT)
              : new OrderBookNaiveImpl(
                  spec,
                  ObjectsPool.createDefaultTestPool(),
                  OrderBookEventsHelper.NON_POOLED_EVENTS_HELPER,
                  LoggingConfiguration.DEFAULT);
    }

    /**
     * Loads command i into the reused OrderCommand, as exchange-core's ring buffer does, and runs
     * it.
     */
    void apply(Stream s, int i) {
      OrderCommand c = cmd;
      c.matcherEvent = null;
      c.orderId = s.orderId[i];
      c.uid = s.account[i] + 1;
      c.symbol = 1;
      if (s.kind[i] == CANCEL) {
        c.command = OrderCommandType.CANCEL_ORDER;
        c.resultCode = book.cancelOrder(c);
        return;
      }
      boolean buy = s.side[i] == Side.BUY;
      long p = s.price[i];
      // exchange-core has no market type: a market order is an IOC at its worst price.
      if (s.type[i] == OrderType.MARKET && p == 0) p = buy ? Long.MAX_VALUE : 0;
      c.command = OrderCommandType.PLACE_ORDER;
      c.action = buy ? OrderAction.BID : OrderAction.ASK;
      c.orderType =
          s.type[i] == OrderType.LIMIT && s.tif[i] == TimeInForce.GTC
              ? exchange.core2.core.common.OrderType.GTC
              : exchange.core2.core.common.OrderType.IOC;
      c.price = p;
      c.reserveBidPrice = p;
      c.size = s.qty[i];
      c.timestamp = i;
      c.resultCode = CommandResultCode.VALID_FOR_MATCHING_ENGINE;
      book.newOrder(c);
    }
  }

  @Benchmark
  public void ourOrderBook(Stream s, OurBook b, Blackhole bh) {
    OrderBook book = b.book;
    String[] names = s.accountName;
    for (int i = 0; i < OPS; i++) {
      if (s.kind[i] == PLACE) {
        bh.consume(
            book.submit(
                s.orderId[i],
                s.side[i],
                s.type[i],
                s.price[i],
                s.qty[i],
                s.tif[i],
                names[s.account[i]],
                "c"));
      } else {
        bh.consume(book.cancel(s.orderId[i]));
      }
    }
  }

  @Benchmark
  public void ourInstrumentEngine(Stream s, EngineState e, Blackhole bh) {
    InstrumentEngine engine = e.engine;
    for (int i = 0; i < OPS; i++) {
      if (s.kind[i] == PLACE) bh.consume(engine.place(s.request[i]));
      else bh.consume(engine.cancel(s.accountName[s.account[i]], s.orderId[i]));
    }
  }

  @Benchmark
  public void exchangeCore(Stream s, ExchangeCoreBook x, Blackhole bh) {
    for (int i = 0; i < OPS; i++) {
      x.apply(s, i);
      bh.consume(x.cmd.matcherEvent);
    }
  }
}
