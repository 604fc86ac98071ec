package com.shrivenquant.engine.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;

/** The position of every account that traded or has open orders in one instrument. */
final class Positions {
  private static final Comparator<PositionState> BY_ACCOUNT =
      Comparator.comparing((PositionState p) -> p.account);

  private final HashMap<String, PositionState> byAccount = new HashMap<>();

  /** Null for an account that never traded or rested an order here. */
  PositionState get(String account) {
    return byAccount.get(account);
  }

  PositionState getOrCreate(String account) {
    PositionState p = byAccount.get(account);
    if (p == null) {
      p = new PositionState(account);
      byAccount.put(account, p);
    }
    return p;
  }

  /** Sets the account's position (from a snapshot); returns the one it replaced, if any. */
  PositionState put(PositionState p) {
    return byAccount.put(p.account, p);
  }

  int size() {
    return byAccount.size();
  }

  PositionView view(String account) {
    PositionState p = byAccount.get(account);
    return p == null ? PositionView.empty(account) : p.view();
  }

  /** Sorted by account. */
  List<PositionView> views() {
    List<PositionView> out = new ArrayList<>(byAccount.size());
    for (PositionState p : byAccount.values()) out.add(p.view());
    out.sort(Comparator.comparing(PositionView::account));
    return out;
  }

  /** Sorted by account: the order snapshots write them in. */
  PositionState[] sortedByAccount() {
    PositionState[] out = byAccount.values().toArray(new PositionState[0]);
    Arrays.sort(out, BY_ACCOUNT);
    return out;
  }
}
