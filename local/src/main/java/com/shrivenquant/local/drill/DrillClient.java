package com.shrivenquant.local.drill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The drill's traders: a few clients sending orders at a steady pace to wherever routing sends them
 * (the order API's DNS name, or the routing proxy). A client that gets no answer or a non-200
 * retries the *same* clientOrderId until it gets one (as a real client must), so an order is never
 * knowingly placed twice. Every acknowledgement is recorded with the region and epoch that gave it:
 * the drill's own record of what it was told.
 */
final class DrillClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One acknowledged order (HTTP 200 with an outcome). Times are epoch ms. */
  record Ack(
      String account,
      String clientOrderId,
      String instrument,
      long orderId,
      String status,
      String region,
      long epoch,
      long firstSentAt,
      long ackedAt,
      int attempts) {}

  private final OrderEndpoint endpoint;
  private final AtomicLong attemptSeq = new AtomicLong();
  private final List<String> instruments;
  private final double ratePerClient;
  private final List<Thread> threads = new ArrayList<>();
  private final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
  private final AtomicLong failedAttempts = new AtomicLong();
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(1))
          .build();
  private final String runId;
  private volatile boolean running = true;

  DrillClient(
      OrderEndpoint endpoint,
      List<String> instruments,
      int clients,
      double totalRate,
      String runId) {
    this.endpoint = endpoint;
    this.instruments = instruments;
    this.ratePerClient = totalRate / clients;
    this.runId = runId;
    for (int c = 0; c < clients; c++) {
      int id = c;
      Thread t = new Thread(() -> trade(id), "drill-client-" + c);
      t.setDaemon(true);
      threads.add(t);
    }
  }

  DrillClient start() {
    threads.forEach(Thread::start);
    return this;
  }

  private void trade(int id) {
    String account = "drill-" + id;
    long intervalNanos = (long) (1e9 / ratePerClient);
    long next = System.nanoTime();
    for (long n = 0; running; n++) {
      String instrument = instruments.get((int) ((n + id) % instruments.size()));
      // Sell to rest, then buy it back IOC: positions stay near flat and the book stays small.
      boolean sell = n % 2 == 0;
      String body =
          "{\"instrument\":\""
              + instrument
              + "\",\"account\":\""
              + account
              + "\",\"clientOrderId\":\""
              + runId
              + "-"
              + id
              + "-"
              + n
              + "\",\"side\":\""
              + (sell ? "SELL" : "BUY")
              + "\",\"type\":\"LIMIT\",\"price\":10001,\"quantity\":1"
              + ",\"timeInForce\":\""
              + (sell ? "GTC" : "IOC")
              + "\"}";
      place(account, runId + "-" + id + "-" + n, instrument, body);
      next += intervalNanos;
      long sleep = next - System.nanoTime();
      if (sleep > 0) {
        try {
          Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
        } catch (InterruptedException e) {
          return;
        }
      } else {
        next = System.nanoTime(); // behind (outage): no burst afterwards
      }
    }
  }

  private void place(String account, String clientOrderId, String instrument, String body) {
    long first = System.currentTimeMillis();
    for (int attempt = 1; ; attempt++) {
      try {
        HttpRequest request =
            HttpRequest.newBuilder(
                    URI.create(endpoint.baseUrl(attemptSeq.getAndIncrement()) + "/api/v1/orders"))
                .timeout(Duration.ofSeconds(3))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          JsonNode ack = JSON.readTree(r.body());
          String[] regionEpoch =
              r.headers().firstValue("X-ShrivenQuant-Region").orElse("?;epoch=0").split(";epoch=");
          acks.add(
              new Ack(
                  account,
                  clientOrderId,
                  instrument,
                  ack.path("orderId").asLong(),
                  ack.path("status").asText(),
                  regionEpoch[0],
                  Long.parseLong(regionEpoch[1]),
                  first,
                  System.currentTimeMillis(),
                  attempt));
          return;
        }
        if (r.statusCode() / 100 == 4) {
          throw new IllegalStateException(
              "drill order refused as bad input: " + r.statusCode() + " " + r.body());
        }
      } catch (java.io.IOException e) {
        // no answer: retry the same clientOrderId
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        if (e instanceof IllegalStateException) throw (IllegalStateException) e;
      }
      failedAttempts.incrementAndGet();
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  List<Ack> acks() {
    List<Ack> all = new ArrayList<>(acks);
    all.sort(Comparator.comparingLong(Ack::ackedAt));
    return all;
  }

  long failedAttempts() {
    return failedAttempts.get();
  }

  /** The first ack at or after {@code since} from {@code region}. */
  Optional<Ack> firstAckFrom(String region, long since) {
    return acks.stream()
        .filter(a -> a.region().equals(region) && a.ackedAt() >= since)
        .min(Comparator.comparingLong(Ack::ackedAt));
  }

  /** Stops sending new orders; orders in flight finish (they keep retrying until answered). */
  void stopAndAwait(Duration timeout) throws InterruptedException {
    running = false;
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Thread t : threads) {
      t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      if (t.isAlive()) t.interrupt();
    }
  }

  @Override
  public void close() {
    running = false;
    threads.forEach(Thread::interrupt);
  }
}
