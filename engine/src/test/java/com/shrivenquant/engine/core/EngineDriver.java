package com.shrivenquant.engine.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Test helper: commands, the events an event-sourced caller would persist, and replay. */
final class EngineDriver {
  private EngineDriver() {}

  sealed interface Command permits Place, Cancel {}

  record Place(OrderRequest request) implements Command {}

  record Cancel(String account, long orderId) implements Command {}

  sealed interface Event permits Accepted, Rejected, Cancelled {}

  record Accepted(OrderRequest request, long orderId, long effectivePrice) implements Event {}

  record Rejected(OrderRequest request, RejectReason reason) implements Event {}

  record Cancelled(String account, long orderId) implements Event {}

  /** Runs one command like an entity would: decide, record the event (if any), apply. */
  static Object run(InstrumentEngine e, Command c, List<Event> journal) {
    if (c instanceof Place p) {
      OrderRequest r = p.request();
      boolean seen = e.previousOutcome(r.account(), r.clientOrderId()).isPresent();
      long effective = e.effectivePrice(r);
      long id = e.nextOrderId();
      Outcome o = e.place(r);
      if (!seen) {
        journal.add(
            o.status() == OrderStatus.REJECTED
                ? new Rejected(r, o.rejectReason())
                : new Accepted(r, id, effective));
      }
      return o;
    }
    Cancel k = (Cancel) c;
    CancelResult res = e.cancel(k.account(), k.orderId());
    if (res.status() == CancelResult.Status.CANCELLED)
      journal.add(new Cancelled(k.account(), k.orderId()));
    return res;
  }

  static void replay(InstrumentEngine e, List<Event> journal) {
    for (Event ev : journal) {
      if (ev instanceof Accepted a) {
        e.applyAccepted(a.request(), a.orderId(), a.effectivePrice());
      } else if (ev instanceof Rejected r) {
        e.applyRejected(r.request(), r.reason());
      } else {
        Cancelled c = (Cancelled) ev;
        if (e.cancel(c.account(), c.orderId()).status() != CancelResult.Status.CANCELLED) {
          throw new AssertionError("replayed cancel did not cancel " + c);
        }
      }
    }
  }

  /**
   * A seeded stream of orders near 1000 and cancels, with some reused clientOrderIds and foreign
   * cancels.
   */
  static List<Command> randomCommands(long seed, int n) {
    Random rnd = new Random(seed);
    List<Command> out = new ArrayList<>(n);
    List<String> usedIds = new ArrayList<>();
    long maxOrderId = 0;
    for (int i = 0; i < n; i++) {
      String account = "acc" + rnd.nextInt(4);
      int roll = rnd.nextInt(100);
      if (roll < 25 && maxOrderId > 0) {
        out.add(new Cancel(account, 1 + rnd.nextInt((int) maxOrderId + 1)));
        continue;
      }
      String cid =
          (roll < 30 && !usedIds.isEmpty()) ? usedIds.get(rnd.nextInt(usedIds.size())) : "c" + i;
      usedIds.add(cid);
      Side side = rnd.nextBoolean() ? Side.BUY : Side.SELL;
      long qty = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 400 : 40);
      OrderRequest r =
          rnd.nextInt(10) == 0
              ? OrderRequest.market(account, cid, side, qty)
              : OrderRequest.limit(
                  account,
                  cid,
                  side,
                  960 + rnd.nextInt(81),
                  qty,
                  rnd.nextInt(5) == 0 ? TimeInForce.IOC : TimeInForce.GTC);
      out.add(new Place(r));
      maxOrderId++;
    }
    return out;
  }
}
