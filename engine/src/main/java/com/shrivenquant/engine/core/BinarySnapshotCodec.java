package com.shrivenquant.engine.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;

/**
 * The binary snapshot of an {@link InstrumentEngine} ({@link InstrumentEngine#snapshotBytes()}),
 * written in one pass straight from the live structures: no intermediate objects, one byte array of
 * about 25 bytes plus the clientOrderId per open or retained completed order, and 4-8 per fill.
 * Deterministic: equal states give equal bytes, so it is also what the state digest hashes. Costs
 * O(open orders + retained completed records + accounts log accounts).
 *
 * <p>Format {@value #FORMAT}. Notation: {@code u} = unsigned LEB128 varint (7 bits a byte, low
 * first; a negative long takes 10 bytes), {@code s} = zigzag varint, {@code b} = one byte, {@code
 * str} = u byte length then UTF-8 (an unpaired surrogate as its three-byte form), {@code acct} = u
 * index into the account table, which starts empty; the index equal to the table's size is followed
 * by a str and adds it (so an account is spelled out once, where it first occurs). Enums are stable
 * codes, not ordinals (see {@link SnapshotCodes}); an optional reject reason is 0 for none, else
 * code + 1.
 *
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
 *
 * An outcome's order id, account and clientOrderId, and each of its fills' taker order id, taker
 * account and taker side, are the record's. A resting order is its record: the record's id,
 * account, clientOrderId, side, effectivePrice (= its limit price), quantity (original) and
 * remaining.
 */
final class BinarySnapshotCodec {
  /** The format version written: the first four bytes. */
  static final int FORMAT = 1;

  /** The fewest bytes a record can take: 10 one-byte varints, 9 bytes, an empty string's length. */
  private static final int MIN_RECORD_BYTES = 20;

  private BinarySnapshotCodec() {}

  static ByteWriter write(InstrumentEngine e) {
    OrderRecords records = e.records;
    int recordCount = e.book.orderCount() + records.completedRetained();
    ByteWriter out = new ByteWriter(128 + 48 * e.positions.size() + 64 * recordCount);
    out.int32(FORMAT);
    out.string(e.instrument());
    out.uvarint(e.nextOrderId);
    out.uvarint(e.lastTradePrice);
    out.uvarint(e.accepted);
    out.uvarint(e.rejected);
    out.uvarint(SnapshotCodes.REJECT_REASONS.length);
    for (RejectReason r : SnapshotCodes.REJECT_REASONS)
      out.uvarint(e.rejectedByReason[r.ordinal()]);

    AccountTable accounts = new AccountTable();
    PositionState[] byAccount = e.positions.sortedByAccount();
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

    out.uvarint(e.book.orderCount());
    e.book.forEachResting(
        (id, tag) -> {
          if (!(tag instanceof OrderRecord rec) || rec.orderId != id || !rec.open()) {
            throw new IllegalStateException(
                e.instrument() + ": resting order " + id + " has no open record");
          }
          writeRecord(out, accounts, rec);
        });
    out.uvarint(records.completedRetained());
    int[] written = {0};
    records.forEachCompleted(
        rec -> {
          writeRecord(out, accounts, rec);
          written[0]++;
        });
    if (written[0] != records.completedRetained()) {
      throw new IllegalStateException(
          e.instrument()
              + ": "
              + written[0]
              + " completed records but counted "
              + records.completedRetained());
    }
    return out;
  }

  private static void writeRecord(ByteWriter out, AccountTable accounts, OrderRecord r) {
    out.uvarint(r.orderId);
    accounts.write(out, r.account);
    out.string(r.clientOrderId);
    out.byte1(SnapshotCodes.code(r.side));
    out.byte1(SnapshotCodes.code(r.type));
    out.byte1(SnapshotCodes.code(r.tif));
    out.uvarint(r.price);
    out.uvarint(r.effectivePrice);
    out.uvarint(r.quantity);
    out.uvarint(r.filled);
    out.uvarint(r.remaining);
    out.uvarint(r.cancelled);
    out.byte1(SnapshotCodes.code(r.status));
    out.byte1(SnapshotCodes.optionalCode(r.rejectReason));
    Outcome o = r.outcome;
    out.byte1(SnapshotCodes.code(o.status()));
    out.byte1(SnapshotCodes.optionalCode(o.rejectReason()));
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

  /** See {@link InstrumentEngine#restoreBytes}. */
  static InstrumentEngine read(
      byte[] data, long referencePrice, RiskLimits limits, int retainedCompletedOrders) {
    ByteReader in = new ByteReader(Objects.requireNonNull(data, "data"));
    int format = in.int32();
    if (format != FORMAT)
      throw new IllegalArgumentException("unsupported binary snapshot format " + format);
    InstrumentEngine e =
        new InstrumentEngine(in.string(), referencePrice, limits, retainedCompletedOrders);
    e.nextOrderId = in.uvarint();
    e.lastTradePrice = in.uvarint();
    e.accepted = in.uvarint();
    e.rejected = in.uvarint();
    int reasons = in.count(1);
    if (reasons != SnapshotCodes.REJECT_REASONS.length)
      throw in.corrupt(reasons + " reject reasons");
    for (RejectReason r : SnapshotCodes.REJECT_REASONS)
      e.rejectedByReason[r.ordinal()] = in.uvarint();

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
      if (e.positions.put(p) != null) throw in.corrupt("second position of " + p.account);
    }

    int open = in.count(MIN_RECORD_BYTES);
    for (int i = 0; i < open; i++) {
      OrderRecord rec = readRecord(in, accounts);
      if (!rec.open())
        throw in.corrupt("order " + rec.orderId + " in the book has nothing remaining");
      e.records.restore(rec);
      e.book.restore(
          rec.orderId,
          rec.side,
          rec.effectivePrice,
          rec.quantity,
          rec.remaining,
          rec.account,
          rec.clientOrderId,
          rec);
    }
    int done = in.count(MIN_RECORD_BYTES);
    for (int i = 0; i < done; i++) {
      OrderRecord rec = readRecord(in, accounts);
      if (rec.open())
        throw in.corrupt("completed order " + rec.orderId + " has quantity remaining");
      e.records.restore(rec);
    }
    in.expectEnd();
    e.records.trimToRetention();
    return e;
  }

  private static OrderRecord readRecord(ByteReader in, List<String> accounts) {
    long orderId = in.uvarint();
    String account = readAccount(in, accounts);
    String clientOrderId = in.string();
    Side side = SnapshotCodes.side(in);
    OrderType type = SnapshotCodes.type(in);
    TimeInForce tif = SnapshotCodes.timeInForce(in);
    long price = in.uvarint();
    long effectivePrice = in.uvarint();
    long quantity = in.uvarint();
    OrderRecord rec =
        new OrderRecord(
            orderId,
            new ClientKey(account, clientOrderId),
            account,
            clientOrderId,
            side,
            type,
            tif,
            price,
            effectivePrice,
            quantity);
    rec.filled = in.uvarint();
    rec.remaining = in.uvarint();
    rec.cancelled = in.uvarint();
    rec.status = SnapshotCodes.status(in);
    rec.rejectReason = SnapshotCodes.optionalReason(in);
    OrderStatus status = SnapshotCodes.status(in);
    RejectReason reason = SnapshotCodes.optionalReason(in);
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
      fills[i] =
          new Fill(makerOrderId, makerAccount, orderId, account, side, fillPrice, fillQuantity);
    }
    rec.outcome =
        new Outcome(
            orderId,
            account,
            clientOrderId,
            status,
            reason,
            List.of(fills),
            filled,
            remaining,
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

  /** Accounts of one snapshot being written: each spelled out once, then referred to by index. */
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
}
