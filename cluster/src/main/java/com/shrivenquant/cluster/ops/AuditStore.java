package com.shrivenquant.cluster.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.shrivenquant.failover.notify.AuditLog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every operator API call, allowed or denied: one row in the region database's append-only {@code
 * audit_log} and one structured log line (logger {@code shrivenquant.audit}, SLF4J key/value
 * pairs). Who is a token's id, never the token.
 */
public final class AuditStore {
  private static final Logger log = LoggerFactory.getLogger("shrivenquant.audit");
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One call as audited.
   *
   * @param actor the token's id, "anonymous" (no token) or "unknown-token"
   * @param role the token's role, or null
   * @param outcome started (a mutating call about to run), ok (2xx), failed (allowed, then not 2xx)
   *     or denied (401, 403, 429)
   * @param status the HTTP status answered (0 while started)
   */
  public record Call(
      String actor,
      OperatorRole role,
      String method,
      String path,
      String source,
      OperatorRole required,
      String outcome,
      int status,
      String note) {}

  private final DataSource db;
  private final Executor blocking;

  public AuditStore(DataSource db, Executor blocking) {
    this.db = db;
    this.blocking = blocking;
  }

  /** Logs the call and appends its row; completes once the row is committed. */
  public CompletionStage<Void> record(Call call) {
    log.atInfo()
        .addKeyValue("actor", call.actor())
        .addKeyValue("role", call.role() == null ? null : call.role().label())
        .addKeyValue("action", call.method() + " " + call.path())
        .addKeyValue("source", call.source())
        .addKeyValue("outcome", call.outcome())
        .addKeyValue("status", call.status())
        .setMessage("operator call {} {} by {} from {}: {} {}")
        .addArgument(call.method())
        .addArgument(call.path())
        .addArgument(call.actor())
        .addArgument(call.source())
        .addArgument(call.outcome())
        .addArgument(call.status())
        .log();
    return CompletableFuture.runAsync(
        () -> {
          try (Connection c = db.getConnection()) {
            new AuditLog(
                    call.actor(),
                    call.method() + " " + call.path(),
                    call.path(),
                    call.source(),
                    call.outcome(),
                    detail(call))
                .append(c);
          } catch (SQLException e) {
            log.error(
                "Audit row not written for {} {} by {}: {}",
                call.method(),
                call.path(),
                call.actor(),
                e.getMessage());
            throw new IllegalStateException("audit log unavailable: " + e.getMessage(), e);
          }
        },
        blocking);
  }

  private static String detail(Call call) {
    ObjectNode d = JSON.createObjectNode();
    d.put("role", call.role() == null ? null : call.role().label());
    d.put("requiredRole", call.required().label());
    d.put("status", call.status());
    if (call.note() != null) d.put("note", call.note());
    return d.toString();
  }

  /** The newest rows first, those with an id below {@code beforeId}. */
  public ArrayNode latest(int limit, long beforeId) throws SQLException {
    ArrayNode out = JSON.createArrayNode();
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, at, actor, action, target, source, outcome, detail::text FROM audit_log"
                    + " WHERE id < ? ORDER BY id DESC LIMIT ?")) {
      ps.setLong(1, beforeId);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ObjectNode row = out.addObject();
          row.put("id", rs.getLong(1));
          row.put("at", rs.getObject(2, OffsetDateTime.class).toString());
          row.put("actor", rs.getString(3));
          row.put("action", rs.getString(4));
          row.put("target", rs.getString(5));
          row.put("source", rs.getString(6));
          row.put("outcome", rs.getString(7));
          try {
            row.set("detail", rs.getString(8) == null ? null : JSON.readTree(rs.getString(8)));
          } catch (java.io.IOException e) {
            throw new SQLException("audit row " + rs.getLong(1) + " has unreadable detail", e);
          }
        }
      }
    }
    return out;
  }
}
