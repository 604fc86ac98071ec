package com.shrivenquant.engine.core;

import java.util.Arrays;

/**
 * The codes of enum constants in the binary snapshot: a constant's position in these arrays, never
 * its ordinal, so that reordering or extending an enum cannot change what stored bytes mean. Append
 * only; a constant missing here fails at class initialization.
 */
final class SnapshotCodes {
  static final Side[] SIDES = {Side.BUY, Side.SELL};
  static final OrderType[] TYPES = {OrderType.LIMIT, OrderType.MARKET};
  static final TimeInForce[] TIME_IN_FORCE = {TimeInForce.GTC, TimeInForce.IOC};
  static final OrderStatus[] STATUSES = {
    OrderStatus.NEW,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.FILLED,
    OrderStatus.CANCELLED,
    OrderStatus.REJECTED
  };
  static final RejectReason[] REJECT_REASONS = {
    RejectReason.MAX_ORDER_QUANTITY,
    RejectReason.MAX_NOTIONAL,
    RejectReason.PRICE_BAND,
    RejectReason.POSITION_LIMIT,
    RejectReason.OPEN_ORDER_LIMIT
  };

  private static final byte[] SIDE_CODE = byOrdinal(SIDES, Side.values().length);
  private static final byte[] TYPE_CODE = byOrdinal(TYPES, OrderType.values().length);
  private static final byte[] TIF_CODE = byOrdinal(TIME_IN_FORCE, TimeInForce.values().length);
  private static final byte[] STATUS_CODE = byOrdinal(STATUSES, OrderStatus.values().length);
  private static final byte[] REASON_CODE = byOrdinal(REJECT_REASONS, RejectReason.values().length);

  private SnapshotCodes() {}

  private static byte[] byOrdinal(Enum<?>[] codes, int constants) {
    byte[] out = new byte[constants];
    Arrays.fill(out, (byte) -1);
    for (int code = 0; code < codes.length; code++) {
      if (out[codes[code].ordinal()] != -1)
        throw new IllegalStateException("two snapshot codes for " + codes[code]);
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
    if (code >= codes.length)
      throw in.corrupt("no " + codes[0].getDeclaringClass().getSimpleName() + " with code " + code);
    return codes[code];
  }
}
