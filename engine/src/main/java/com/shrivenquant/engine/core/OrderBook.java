package com.shrivenquant.engine.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Price-time priority limit order book of one instrument.
 *
 * <p>Each side is an array of price levels sorted so that the best level is last: matching and most
 * inserts happen near the best price, so they touch the end of the array and shift little. Each
 * level is an intrusive doubly linked FIFO of order nodes, and an id -> node map gives O(1) cancel.
 * Nodes and levels are pooled, so steady-state matching allocates only the fills and the result.
 *
 * <p>Self-trade is allowed: an account's order may match its own resting order. Preventing it needs
 * a policy (cancel oldest/newest/both) that the venue has not chosen; positions stay correct either
 * way (the account buys and sells the same quantity).
 *
 * <p>Not thread-safe: one instrument is driven by one actor.
 */
public final class OrderBook {
  private static final int POOL_LIMIT = 1 << 16;

  private final BookSide bids = new BookSide(true);
  private final BookSide asks = new BookSide(false);
  private final BookSide[] sides = {bids, asks}; // restingOrders() order
  private final LongHashMap<Node> index = new LongHashMap<>(1024);

  private Node freeNodes;
  private int freeNodeCount;

  /**
   * Matches an order against the opposite side, then rests the remainder (LIMIT + GTC) or cancels
   * it (IOC, MARKET).
   *
   * @param limitPrice for LIMIT, the limit price (> 0); for MARKET, a protection price: the worst
   *     price the order may trade at, 0 for none
   */
  public MatchResult submit(
      long orderId,
      Side side,
      OrderType type,
      long limitPrice,
      long quantity,
      TimeInForce tif,
      String account,
      String clientOrderId) {
    return submit(orderId, side, type, limitPrice, quantity, tif, account, clientOrderId, null);
  }

  /**
   * {@link #submit(long, Side, OrderType, long, long, TimeInForce, String, String)}, keeping tag
   * with the order while it rests: the owner's record of it, opaque to the book, handed back by
   * {@link #forEachResting}.
   */
  MatchResult submit(
      long orderId,
      Side side,
      OrderType type,
      long limitPrice,
      long quantity,
      TimeInForce tif,
      String account,
      String clientOrderId,
      Object tag) {
    if (side == null || type == null || tif == null)
      throw new IllegalArgumentException("side, type and tif are required");
    if (quantity <= 0) throw new IllegalArgumentException("quantity must be > 0");
    if (type == OrderType.LIMIT ? limitPrice <= 0 : limitPrice < 0) {
      throw new IllegalArgumentException("bad price " + limitPrice + " for a " + type + " order");
    }
    if (index.containsKey(orderId))
      throw new IllegalArgumentException("order " + orderId + " is already in the book");

    boolean buy = side == Side.BUY;
    long bound = limitPrice;
    if (type == OrderType.MARKET && limitPrice == 0) bound = buy ? Long.MAX_VALUE : 0;

    BookSide opposite = buy ? asks : bids;
    long remaining = quantity;
    ArrayList<Fill> fills = null;
    PriceLevel level;
    while (remaining > 0
        && (level = opposite.best()) != null
        && (buy ? level.price <= bound : level.price >= bound)) {
      Node maker = level.head;
      while (maker != null && remaining > 0) {
        long q = Math.min(remaining, maker.remaining);
        maker.remaining -= q;
        level.quantity -= q;
        remaining -= q;
        if (fills == null) fills = new ArrayList<>(4);
        fills.add(new Fill(maker.orderId, maker.account, orderId, account, side, level.price, q));
        Node next = maker.next;
        if (maker.remaining == 0) {
          level.unlink(maker);
          index.remove(maker.orderId);
          release(maker);
        }
        maker = next;
      }
      if (level.orders == 0) opposite.removeBest();
    }

    long filled = quantity - remaining;
    long resting = 0;
    long cancelled = 0;
    if (remaining > 0) {
      if (type == OrderType.LIMIT && tif == TimeInForce.GTC) {
        rest(orderId, side, limitPrice, quantity, remaining, account, clientOrderId, tag);
        resting = remaining;
      } else {
        cancelled = remaining;
      }
    }
    return new MatchResult(orderId, fills == null ? List.of() : fills, filled, resting, cancelled);
  }

  /** Removes a resting order; returns it as it was just before, or empty if it was not resting. */
  public Optional<RestingOrder> cancel(long orderId) {
    Node node = index.remove(orderId);
    if (node == null) return Optional.empty();
    RestingOrder view = node.view();
    PriceLevel level = node.level;
    level.quantity -= node.remaining;
    level.unlink(node);
    if (level.orders == 0) (node.side == Side.BUY ? bids : asks).remove(level);
    release(node);
    return Optional.of(view);
  }

  public Optional<RestingOrder> find(long orderId) {
    Node node = index.get(orderId);
    return node == null ? Optional.empty() : Optional.of(node.view());
  }

  public boolean isResting(long orderId) {
    return index.containsKey(orderId);
  }

  /** Appends an order at the back of its price level, as a snapshot restore does. */
  public void restore(RestingOrder o) {
    restore(
        o.orderId(),
        o.side(),
        o.price(),
        o.originalQuantity(),
        o.remainingQuantity(),
        o.account(),
        o.clientOrderId(),
        null);
  }

  /**
   * {@link #restore(RestingOrder)} without the intermediate record, with a tag as {@link #submit}
   * takes.
   */
  void restore(
      long orderId,
      Side side,
      long price,
      long original,
      long remaining,
      String account,
      String clientOrderId,
      Object tag) {
    if (remaining <= 0 || remaining > original) {
      throw new IllegalArgumentException(
          "bad quantities " + remaining + "/" + original + " of order " + orderId);
    }
    if (price <= 0)
      throw new IllegalArgumentException("bad price " + price + " of order " + orderId);
    if (side == null) throw new IllegalArgumentException("no side for order " + orderId);
    if (index.containsKey(orderId))
      throw new IllegalArgumentException("order " + orderId + " is already in the book");
    rest(orderId, side, price, original, remaining, account, clientOrderId, tag);
  }

  /** Aggregated levels of one side, best first. */
  public List<Level> depth(Side side, int levels) {
    BookSide s = side == Side.BUY ? bids : asks;
    int n = Math.min(Math.max(levels, 0), s.size);
    List<Level> out = new ArrayList<>(n);
    for (int i = s.size - 1; i >= s.size - n; i--) {
      PriceLevel l = s.levels[i];
      out.add(new Level(l.price, l.quantity, l.orders));
    }
    return out;
  }

  public OptionalLong bestBid() {
    PriceLevel l = bids.best();
    return l == null ? OptionalLong.empty() : OptionalLong.of(l.price);
  }

  public OptionalLong bestAsk() {
    PriceLevel l = asks.best();
    return l == null ? OptionalLong.empty() : OptionalLong.of(l.price);
  }

  /**
   * Every resting order: bids then asks, each side best level first and in time order within a
   * level.
   */
  public List<RestingOrder> restingOrders() {
    List<RestingOrder> out = new ArrayList<>(index.size());
    for (BookSide s : sides) {
      for (int i = s.size - 1; i >= 0; i--) {
        for (Node n = s.levels[i].head; n != null; n = n.next) out.add(n.view());
      }
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * Calls back with the id and tag of every resting order, in {@link #restingOrders()} order,
   * allocating nothing.
   */
  void forEachResting(RestingVisitor action) {
    for (BookSide s : sides) {
      for (int i = s.size - 1; i >= 0; i--) {
        for (Node n = s.levels[i].head; n != null; n = n.next) action.visit(n.orderId, n.tag);
      }
    }
  }

  @FunctionalInterface
  interface RestingVisitor {
    void visit(long orderId, Object tag);
  }

  public int orderCount() {
    return index.size();
  }

  public int levelCount(Side side) {
    return (side == Side.BUY ? bids : asks).size;
  }

  private void rest(
      long orderId,
      Side side,
      long price,
      long original,
      long remaining,
      String account,
      String clientOrderId,
      Object tag) {
    Node n = freeNodes;
    if (n != null) {
      freeNodes = n.next;
      freeNodeCount--;
      n.next = null;
    } else {
      n = new Node();
    }
    n.orderId = orderId;
    n.account = account;
    n.clientOrderId = clientOrderId;
    n.side = side;
    n.price = price;
    n.originalQuantity = original;
    n.remaining = remaining;
    n.tag = tag;
    PriceLevel level = (side == Side.BUY ? bids : asks).levelFor(price);
    level.append(n);
    level.quantity += remaining;
    index.put(orderId, n);
  }

  private void release(Node n) {
    n.account = null;
    n.clientOrderId = null;
    n.tag = null;
    n.level = null;
    n.prev = null;
    if (freeNodeCount < POOL_LIMIT) {
      n.next = freeNodes;
      freeNodes = n;
      freeNodeCount++;
    } else {
      n.next = null;
    }
  }

  private static final class Node {
    long orderId;
    String account;
    String clientOrderId;
    Side side;
    long price;
    long originalQuantity;
    long remaining;
    Object tag;
    PriceLevel level;
    Node prev;
    Node next;

    RestingOrder view() {
      return new RestingOrder(
          orderId, account, clientOrderId, side, price, originalQuantity, remaining);
    }
  }

  private static final class PriceLevel {
    long price;
    long quantity;
    int orders;
    Node head;
    Node tail;

    void append(Node n) {
      n.level = this;
      n.prev = tail;
      n.next = null;
      if (tail == null) head = n;
      else tail.next = n;
      tail = n;
      orders++;
    }

    void unlink(Node n) {
      if (n.prev == null) head = n.next;
      else n.prev.next = n.next;
      if (n.next == null) tail = n.prev;
      else n.next.prev = n.prev;
      orders--;
    }
  }

  /**
   * Levels of one side sorted so the best is at the end: bids by ascending price, asks by
   * descending price. Prices are duplicated in a long[] so the binary search stays in cache.
   */
  private static final class BookSide {
    final boolean bids;
    PriceLevel[] levels = new PriceLevel[64];
    long[] prices = new long[64];
    int size;
    private PriceLevel[] pool = new PriceLevel[64];
    private int pooled;

    BookSide(boolean bids) {
      this.bids = bids;
    }

    PriceLevel best() {
      return size == 0 ? null : levels[size - 1];
    }

    /** Index of the level at price, or -(insertion point) - 1. */
    int search(long price) {
      // Fast path: activity concentrates at the best price.
      if (size > 0 && prices[size - 1] == price) return size - 1;
      int lo = 0;
      int hi = size - 1;
      while (lo <= hi) {
        int mid = (lo + hi) >>> 1;
        long p = prices[mid];
        if (p == price) return mid;
        if (bids ? p < price : p > price) lo = mid + 1;
        else hi = mid - 1;
      }
      return -(lo + 1);
    }

    PriceLevel levelFor(long price) {
      int i = search(price);
      if (i >= 0) return levels[i];
      int at = -i - 1;
      if (size == levels.length) {
        levels = Arrays.copyOf(levels, size * 2);
        prices = Arrays.copyOf(prices, size * 2);
      }
      System.arraycopy(levels, at, levels, at + 1, size - at);
      System.arraycopy(prices, at, prices, at + 1, size - at);
      PriceLevel l = pooled > 0 ? pool[--pooled] : new PriceLevel();
      l.price = price;
      levels[at] = l;
      prices[at] = price;
      size++;
      return l;
    }

    void removeBest() {
      release(levels[--size]);
      levels[size] = null;
    }

    void remove(PriceLevel level) {
      int i = search(level.price);
      if (i < 0 || levels[i] != level)
        throw new IllegalStateException("level " + level.price + " not in book");
      System.arraycopy(levels, i + 1, levels, i, size - i - 1);
      System.arraycopy(prices, i + 1, prices, i, size - i - 1);
      levels[--size] = null;
      release(level);
    }

    private void release(PriceLevel l) {
      l.head = null;
      l.tail = null;
      l.quantity = 0;
      l.orders = 0;
      if (pooled < pool.length) pool[pooled++] = l;
    }
  }
}
