package com.shrivenquant.failover.notify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.shrivenquant.failover.FailoverMetrics;
import com.shrivenquant.failover.FailoverSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the world: the incident is stored (queryable), written as one structured log line, counted,
 * audited, and POSTed to the webhook with retries (backoff doubling from {@code
 * notify.first-backoff}). The webhook runs in the background: a slow receiver never holds up
 * trading.
 */
public final class IncidentNotifier {
  private static final Logger incidents = LoggerFactory.getLogger("shrivenquant.incident");
  public static final ObjectMapper JSON = new ObjectMapper();

  private final FailoverSettings settings;
  private final DataSource regionDb;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final AtomicLong notified = new AtomicLong();

  public IncidentNotifier(FailoverSettings settings, DataSource regionDb) {
    this.settings = settings;
    this.regionDb = regionDb;
  }

  public long count() {
    return notified.get();
  }

  /** Stores, logs, counts and audits now; the webhook delivery completes the returned stage. */
  public CompletableFuture<Integer> notify(Incident incident) throws Exception {
    String document = JSON.writeValueAsString(incident);
    try (Connection c = regionDb.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO failover_incident (epoch, kind, document) VALUES (?, ?, ?::jsonb)")) {
        ps.setLong(1, incident.toEpoch());
        ps.setString(2, incident.kind());
        ps.setString(3, document);
        ps.executeUpdate();
      }
      new AuditLog(
              "region-coordinator:" + settings.region(),
              incident.kind(),
              incident.previousRegion() + " -> " + incident.region(),
              "system",
              "ok",
              document)
          .append(c);
      c.commit();
    }
    notified.incrementAndGet();
    FailoverMetrics.incident(incident);
    incidents.info("{}", document);
    if (settings.webhookUrl().isBlank()) return CompletableFuture.completedFuture(0);
    return CompletableFuture.supplyAsync(() -> deliver(document));
  }

  // Returns the attempt that succeeded; gives up (logged) after notify.attempts.
  private int deliver(String document) {
    long backoff = settings.notifyFirstBackoff().toMillis();
    for (int attempt = 1; attempt <= settings.notifyAttempts(); attempt++) {
      try {
        HttpResponse<Void> r =
            http.send(
                HttpRequest.newBuilder(URI.create(settings.webhookUrl()))
                    .timeout(Duration.ofSeconds(5))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(document))
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() / 100 == 2) return attempt;
        incidents.warn("Webhook answered {} (attempt {})", r.statusCode(), attempt);
      } catch (Exception e) {
        incidents.warn("Webhook delivery failed (attempt {}): {}", attempt, e.toString());
      }
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return -1;
      }
      backoff *= 2;
    }
    incidents.error(
        "Webhook gave up after {} attempts; the incident is stored and logged",
        settings.notifyAttempts());
    return -1;
  }
}
