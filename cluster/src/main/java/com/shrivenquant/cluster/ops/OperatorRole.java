package com.shrivenquant.cluster.ops;

import java.util.Locale;

/** An operator token's role; each role may do everything the roles below it may. */
public enum OperatorRole {
  /** Reads: status, replication, reports, incidents, drills, cluster membership. */
  VIEWER,
  /** Planned switchover, drills, a member's leave. */
  OPERATOR,
  /** Forced promotion, fence, token reload, the audit log, downing a member. */
  ADMIN;

  public boolean covers(OperatorRole required) {
    return compareTo(required) >= 0;
  }

  /** As written in token lines and JSON: lower case. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static OperatorRole parse(String label) {
    for (OperatorRole r : values()) {
      if (r.label().equals(label)) return r;
    }
    throw new IllegalArgumentException("role must be viewer, operator or admin");
  }
}
