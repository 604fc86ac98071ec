package com.shrivenquant.engine.core;

import static com.shrivenquant.engine.core.OrderType.LIMIT;
import static com.shrivenquant.engine.core.OrderType.MARKET;
import static com.shrivenquant.engine.core.Side.BUY;
import static com.shrivenquant.engine.core.Side.SELL;
import static com.shrivenquant.engine.core.TimeInForce.GTC;
import static com.shrivenquant.engine.core.TimeInForce.IOC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class OrderBookTest {
  private final OrderBook book = new OrderBook();
  private long nextId = 1;

  private MatchResult limit(Side side, long price, long qty) {
    return book.submit(nextId++, side, LIMIT, price, qty, GTC, "acc" + side, "c" + nextId);
  }

  private MatchResult submit(Side side, OrderType type, long price, long qty, TimeInForce tif) {
    return book.submit(nextId++, side, type, price, qty, tif, "taker", "c" + nextId);
  }

  private static List<Long> makers(MatchResult r) {
    return r.fills().stream().map(Fill::makerOrderId).toList();
  }

  @Test
  void restsWhenNothingToMatch() {
    MatchResult r = limit(BUY, 100, 5);
    assertEquals(new MatchResult(1, List.of(), 0, 5, 0), r);
    assertEquals(OptionalLong.of(100), book.bestBid());
    assertEquals(OptionalLong.empty(), book.bestAsk());
    assertEquals(Optional.of(new RestingOrder(1, "accBUY", "c2", BUY, 100, 5, 5)), book.find(1));
  }

  @Test
  void betterPriceFillsFirstAtTheMakersPrice() {
    limit(SELL, 101, 1); // 1
    limit(SELL, 100, 1); // 2
    limit(SELL, 102, 1); // 3
    MatchResult r = submit(BUY, LIMIT, 105, 3, GTC);
    assertEquals(List.of(2L, 1L, 3L), makers(r));
    assertEquals(List.of(100L, 101L, 102L), r.fills().stream().map(Fill::price).toList());
    assertEquals(3, r.filledQuantity());
    assertEquals(0, book.orderCount());
    assertEquals(0, book.levelCount(SELL));
  }

  @Test
  void earlierOrderAtALevelFillsFirst() {
    limit(BUY, 100, 2); // 1
    limit(BUY, 100, 2); // 2
    limit(BUY, 100, 2); // 3
    MatchResult r = submit(SELL, LIMIT, 100, 3, GTC);
    assertEquals(List.of(1L, 2L), makers(r));
    assertEquals(List.of(2L, 1L), r.fills().stream().map(Fill::quantity).toList());
    assertEquals(1, book.find(2).orElseThrow().remainingQuantity());
    assertEquals(List.of(new Level(100, 3, 2)), book.depth(BUY, 10));
    assertEquals(
        List.of(2L, 3L), book.restingOrders().stream().map(RestingOrder::orderId).toList());
  }

  @Test
  void fillCarriesBothSides() {
    book.submit(1, SELL, LIMIT, 100, 5, GTC, "maker", "m1");
    MatchResult r = book.submit(2, BUY, LIMIT, 100, 2, GTC, "taker", "t1");
    assertEquals(List.of(new Fill(1, "maker", 2, "taker", BUY, 100, 2)), r.fills());
  }

  @Test
  void partialFillRestsTheRemainder() {
    limit(SELL, 100, 3); // 1
    MatchResult r = submit(BUY, LIMIT, 101, 5, GTC);
    assertEquals(3, r.filledQuantity());
    assertEquals(2, r.restingQuantity());
    assertEquals(0, r.cancelledQuantity());
    assertEquals(OptionalLong.of(101), book.bestBid());
    assertEquals(OptionalLong.empty(), book.bestAsk());
    RestingOrder rest = book.find(2).orElseThrow();
    assertEquals(5, rest.originalQuantity());
    assertEquals(2, rest.remainingQuantity());
  }

  @Test
  void nonCrossingLimitDoesNotTrade() {
    limit(SELL, 101, 3);
    MatchResult r = submit(BUY, LIMIT, 100, 5, GTC);
    assertTrue(r.fills().isEmpty());
    assertEquals(OptionalLong.of(100), book.bestBid());
    assertEquals(OptionalLong.of(101), book.bestAsk());
  }

  @Test
  void cancelRemovesTheOrderAndEmptyLevel() {
    limit(BUY, 100, 2); // 1
    limit(BUY, 100, 3); // 2
    limit(BUY, 99, 4); // 3
    Optional<RestingOrder> c = book.cancel(1);
    assertEquals(2, c.orElseThrow().remainingQuantity());
    assertEquals(List.of(new Level(100, 3, 1), new Level(99, 4, 1)), book.depth(BUY, 5));
    assertTrue(book.cancel(1).isEmpty());
    assertTrue(book.cancel(42).isEmpty());
    book.cancel(2);
    assertEquals(OptionalLong.of(99), book.bestBid());
    book.cancel(3);
    assertEquals(OptionalLong.empty(), book.bestBid());
    assertEquals(0, book.orderCount());
  }

  @Test
  void cancelInTheMiddleKeepsTimeOrder() {
    limit(SELL, 100, 1); // 1
    limit(SELL, 100, 1); // 2
    limit(SELL, 100, 1); // 3
    book.cancel(2);
    MatchResult r = submit(BUY, LIMIT, 100, 2, IOC);
    assertEquals(List.of(1L, 3L), makers(r));
  }

  @Test
  void iocCancelsTheRemainder() {
    limit(SELL, 100, 2);
    limit(SELL, 102, 2);
    MatchResult r = submit(BUY, LIMIT, 101, 5, IOC);
    assertEquals(2, r.filledQuantity());
    assertEquals(0, r.restingQuantity());
    assertEquals(3, r.cancelledQuantity());
    assertEquals(OptionalLong.empty(), book.bestBid());
    assertEquals(OptionalLong.of(102), book.bestAsk());
  }

  @Test
  void marketStopsAtItsProtectionPrice() {
    limit(SELL, 100, 1);
    limit(SELL, 101, 1);
    limit(SELL, 102, 1);
    MatchResult r = submit(BUY, MARKET, 101, 5, GTC); // GTC is ignored for market
    assertEquals(List.of(100L, 101L), r.fills().stream().map(Fill::price).toList());
    assertEquals(3, r.cancelledQuantity());
    assertEquals(0, r.restingQuantity());
    assertEquals(OptionalLong.empty(), book.bestBid());
  }

  @Test
  void sellMarketStopsAtItsProtectionPrice() {
    limit(BUY, 100, 1);
    limit(BUY, 99, 1);
    limit(BUY, 98, 1);
    MatchResult r = submit(SELL, MARKET, 99, 5, IOC);
    assertEquals(List.of(100L, 99L), r.fills().stream().map(Fill::price).toList());
    assertEquals(OptionalLong.of(98), book.bestBid());
  }

  @Test
  void marketWithoutProtectionSweepsTheBook() {
    limit(BUY, 100, 1);
    limit(BUY, 1, 1);
    MatchResult r = submit(SELL, MARKET, 0, 5, IOC);
    assertEquals(2, r.filledQuantity());
    assertEquals(3, r.cancelledQuantity());
    assertEquals(OptionalLong.empty(), book.bestBid());
  }

  @Test
  void marketOnEmptyBookIsCancelled() {
    MatchResult r = submit(BUY, MARKET, 0, 5, IOC);
    assertEquals(new MatchResult(1, List.of(), 0, 0, 5), r);
    assertEquals(0, book.orderCount());
  }

  @Test
  void depthIsBestFirstAndLimited() {
    limit(SELL, 103, 1);
    limit(SELL, 101, 2);
    limit(SELL, 101, 3);
    limit(SELL, 102, 4);
    limit(BUY, 99, 5);
    limit(BUY, 98, 6);
    assertEquals(List.of(new Level(101, 5, 2), new Level(102, 4, 1)), book.depth(SELL, 2));
    assertEquals(List.of(new Level(99, 5, 1), new Level(98, 6, 1)), book.depth(BUY, 10));
    assertEquals(List.of(), book.depth(BUY, 0));
  }

  @Test
  void restoreRebuildsTheSameBook() {
    limit(SELL, 103, 1);
    limit(SELL, 101, 2);
    limit(SELL, 101, 3);
    limit(BUY, 99, 5);
    limit(BUY, 100, 6);
    submit(BUY, LIMIT, 101, 1, IOC); // partially fills order 2
    OrderBook copy = new OrderBook();
    book.restingOrders().forEach(copy::restore);
    assertEquals(book.restingOrders(), copy.restingOrders());
    assertEquals(book.depth(SELL, 10), copy.depth(SELL, 10));
    assertEquals(
        book.submit(100, BUY, LIMIT, 103, 4, GTC, "x", "y"),
        copy.submit(100, BUY, LIMIT, 103, 4, GTC, "x", "y"));
  }

  @Test
  void manyLevelsStaySorted() {
    for (int i = 0; i < 500; i++) limit(SELL, 1000 + (i * 7919L) % 500, 1);
    for (int i = 0; i < 500; i++) limit(BUY, 500 + (i * 7919L) % 500, 1);
    List<Level> asks = book.depth(SELL, 1000);
    List<Level> bids = book.depth(BUY, 1000);
    assertEquals(500, asks.size());
    for (int i = 1; i < asks.size(); i++) assertTrue(asks.get(i - 1).price() < asks.get(i).price());
    for (int i = 1; i < bids.size(); i++) assertTrue(bids.get(i - 1).price() > bids.get(i).price());
    for (long id = 1; id < nextId; id += 3) assertTrue(book.cancel(id).isPresent());
    MatchResult sweep = submit(BUY, MARKET, 0, 10_000, IOC);
    assertEquals(500 - 167, sweep.filledQuantity());
    for (int i = 1; i < sweep.fills().size(); i++) {
      assertTrue(sweep.fills().get(i - 1).price() <= sweep.fills().get(i).price());
    }
    assertFalse(book.bestAsk().isPresent());
  }

  @Test
  void rejectsBadInput() {
    limit(BUY, 100, 1);
    assertThrows(
        IllegalArgumentException.class, () -> book.submit(1, SELL, LIMIT, 100, 1, GTC, "a", "b"));
    assertThrows(
        IllegalArgumentException.class, () -> book.submit(9, SELL, LIMIT, 0, 1, GTC, "a", "b"));
    assertThrows(
        IllegalArgumentException.class, () -> book.submit(9, SELL, LIMIT, 100, 0, GTC, "a", "b"));
    assertThrows(
        IllegalArgumentException.class,
        () -> book.restore(new RestingOrder(1, "a", "b", BUY, 100, 1, 1)));
    assertEquals(1, book.orderCount());
  }
}
