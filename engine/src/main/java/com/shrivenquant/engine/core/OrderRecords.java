package com.shrivenquant.engine.core;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.function.Consumer;

/**
 * The order records of one instrument, by order id and by (account, clientOrderId): the idempotency
 * memory. Open orders are always kept; completed ones (rejected, filled, cancelled) only the last
 * {@code retainedCompletedOrders} to complete (see {@link InstrumentEngine}).
 */
final class OrderRecords {
  private final LongHashMap<OrderRecord> byOrderId = new LongHashMap<>(1024);
  private final HashMap<ClientKey, OrderRecord> byClientId = new HashMap<>();

  private final int retainedCompletedOrders;

  /**
   * Completed records, oldest completion first. Holds every retained completed record, plus
   * possibly some already {@link OrderRecord#forgotten} ones (see {@link #forget}), which are
   * skipped; {@link #completedRetained} counts only the former.
   */
  private final ArrayDeque<OrderRecord> completed = new ArrayDeque<>();

  private int completedRetained;

  OrderRecords(int retainedCompletedOrders) {
    this.retainedCompletedOrders = retainedCompletedOrders;
  }

  int retainedCompletedOrders() {
    return retainedCompletedOrders;
  }

  /** Completed records remembered now. */
  int completedRetained() {
    return completedRetained;
  }

  /** Null if unknown or forgotten; rejections have no order id. */
  OrderRecord byOrderId(long orderId) {
    return byOrderId.get(orderId);
  }

  OrderRecord byClientId(ClientKey key) {
    return byClientId.get(key);
  }

  OrderRecord byClientId(String account, String clientOrderId) {
    return byClientId.get(new ClientKey(account, clientOrderId));
  }

  /** Remembers an accepted order under its order id and its clientOrderId. */
  void addAccepted(OrderRecord rec) {
    byOrderId.put(rec.orderId, rec);
    byClientId.put(rec.key, rec);
  }

  /** Remembers a rejection: under its clientOrderId only, it has no order id. */
  void addRejected(OrderRecord rec) {
    byClientId.put(rec.key, rec);
  }

  /**
   * Records that rec can no longer change; forgets the oldest completed record beyond the bound.
   */
  void complete(OrderRecord rec) {
    completed.addLast(rec);
    if (++completedRetained > retainedCompletedOrders) evictOldestCompleted();
  }

  /** Forgets the oldest completed records until no more than the bound are left. */
  void trimToRetention() {
    while (completedRetained > retainedCompletedOrders) evictOldestCompleted();
  }

  private void evictOldestCompleted() {
    OrderRecord oldest;
    do {
      oldest = completed.pollFirst();
    } while (oldest.forgotten);
    forget(oldest);
  }

  /**
   * Removes a retained completed record from the order and clientOrderId maps. When it is not the
   * oldest it stays in {@link #completed}, marked, until it reaches the front: no scan.
   */
  void forget(OrderRecord rec) {
    rec.forgotten = true;
    byClientId.remove(rec.key);
    if (rec.orderId != 0) byOrderId.remove(rec.orderId);
    completedRetained--;
  }

  /** The retained completed records, oldest completion first. */
  void forEachCompleted(Consumer<OrderRecord> action) {
    for (OrderRecord rec : completed) {
      if (!rec.forgotten) action.accept(rec);
    }
  }

  /**
   * Adds a record taken from a snapshot to the maps, and to the completion order if completed.
   * Checks what both snapshot forms rely on. Callers trim to the bound once all are added.
   */
  void restore(OrderRecord rec) {
    if (byClientId.put(rec.key, rec) != null) {
      throw new IllegalArgumentException(
          "duplicate clientOrderId in snapshot: " + rec.clientOrderId);
    }
    if (rec.orderId != 0 && byOrderId.put(rec.orderId, rec) != null) {
      throw new IllegalArgumentException("duplicate order id in snapshot: " + rec.orderId);
    }
    boolean openStatus =
        rec.status == OrderStatus.NEW || rec.status == OrderStatus.PARTIALLY_FILLED;
    if (openStatus != rec.open()
        || (rec.open()
            && (rec.orderId == 0
                || rec.type != OrderType.LIMIT
                || rec.tif != TimeInForce.GTC
                || rec.price != rec.effectivePrice))) {
      throw new IllegalArgumentException(
          "order record "
              + rec.orderId
              + "/"
              + rec.clientOrderId
              + " is "
              + rec.status
              + " "
              + rec.type
              + " "
              + rec.tif
              + " with remaining quantity "
              + rec.remaining);
    }
    Outcome o = rec.outcome;
    if (o.orderId() != rec.orderId
        || !o.account().equals(rec.account)
        || !o.clientOrderId().equals(rec.clientOrderId)) {
      throw new IllegalArgumentException(
          "the outcome of order record "
              + rec.orderId
              + "/"
              + rec.clientOrderId
              + " is for another order: "
              + o.orderId()
              + "/"
              + o.account()
              + "/"
              + o.clientOrderId());
    }
    for (Fill f : o.fills()) {
      if (f.takerOrderId() != rec.orderId
          || !f.takerAccount().equals(rec.account)
          || f.takerSide() != rec.side) {
        throw new IllegalArgumentException(
            "a fill of order record " + rec.orderId + " has another taker: " + f);
      }
    }
    if (!rec.open()) {
      completed.addLast(rec);
      completedRetained++;
    }
  }
}
