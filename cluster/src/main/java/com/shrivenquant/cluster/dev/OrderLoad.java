package com.shrivenquant.cluster.dev;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * An open-loop order flow: orders are due at a fixed arrival rate and each order's latency is
 * measured from the time it was due, not from when it was sent, so a stalled server cannot hide
 * its stall by slowing the client down (no coordinated omission).
 */
public final class OrderLoad implements AutoCloseable {

  /** How symbols are chosen: uniform, skewed (Zipf-like, s=1), or all on one hot instrument. */
  public enum Spread {
    UNIFORM,
    ZIPF,
    HOT
  }

  public record Options(
      List<URI> nodes,
      List<String> symbols,
      long referencePrice,
      double ratePerSecond,
      Spread spread,
      int accounts,
      int maxOutstanding,
      long seed) {}

  /** One interval's figures; latencies in microseconds. */
  public record Interval(
      long due, long acked, long rejected, long errors, long dropped, Histogram latency) {}

  private final Options options;
  private final HttpClient client;
  private final Recorder recorder = new Recorder(3);
  private final Histogram total = new Histogram(3);
  private final AtomicLong due = new AtomicLong();
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong outstanding = new AtomicLong();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final double[] zipfCdf;
  private final Thread pacer;
  private final String runId = Long.toString(System.currentTimeMillis(), 36);

  public OrderLoad(Options options) {
    this.options = options;
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    this.zipfCdf = zipfCdf(options.symbols().size());
    this.pacer = new Thread(this::pace, "order-load-pacer");
    this.pacer.setDaemon(true);
  }

  public OrderLoad start() {
    pacer.start();
    return this;
  }

  /** Figures since the previous sample. */
  public synchronized Interval sample() {
    Histogram h = recorder.getIntervalHistogram();
    total.add(h);
    long[] now = counters();
    Interval i =
        new Interval(
            now[0] - last[0], now[1] - last[1], now[2] - last[2], now[3] - last[3],
            now[4] - last[4], h);
    last = now;
    return i;
  }

  /** The whole run so far. */
  public synchronized Interval totals() {
    total.add(recorder.getIntervalHistogram());
    long[] now = counters();
    return new Interval(now[0], now[1], now[2], now[3], now[4], total.copy());
  }

  private long[] last = new long[5];

  private long[] counters() {
    return new long[] {due.get(), acked.get(), rejected.get(), errors.get(), dropped.get()};
  }

  @Override
  public void close() {
    running.set(false);
    pacer.interrupt();
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (outstanding.get() > 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(10_000_000);
    }
  }

  private void pace() {
    SplittableRandom random = new SplittableRandom(options.seed());
    long intervalNanos = (long) (1_000_000_000L / options.ratePerSecond());
    long start = System.nanoTime();
    for (long i = 0; running.get(); i++) {
      long dueAt = start + i * intervalNanos;
      long wait;
      while ((wait = dueAt - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
        if (!running.get()) return;
      }
      due.incrementAndGet();
      if (outstanding.get() >= options.maxOutstanding()) {
        dropped.incrementAndGet(); // the server is too far behind; count, do not queue without bound
        continue;
      }
      send(i, dueAt, random);
    }
  }

  private void send(long i, long dueAt, SplittableRandom random) {
    String symbol = options.symbols().get(pickSymbol(random));
    URI node = options.nodes().get((int) (i % options.nodes().size()));
    boolean buy = random.nextBoolean();
    // Prices around the reference, inside the default 10% band; both sides cross often.
    long offset = random.nextLong(-20, 21) * Math.max(1, options.referencePrice() / 1000);
    long price = options.referencePrice() + offset;
    boolean ioc = random.nextInt(10) == 0;
    String body =
        "{\"instrument\":\"" + symbol + "\",\"account\":\"acct-" + random.nextInt(options.accounts())
            + "\",\"clientOrderId\":\"" + runId + "-" + i + "\",\"side\":\"" + (buy ? "BUY" : "SELL")
            + "\",\"type\":\"LIMIT\",\"price\":" + price + ",\"quantity\":" + (1 + random.nextInt(10))
            + ",\"timeInForce\":\"" + (ioc ? "IOC" : "GTC") + "\"}";
    HttpRequest request =
        HttpRequest.newBuilder(node.resolve("/api/v1/orders"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    outstanding.incrementAndGet();
    client
        .sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .whenComplete(
            (response, failure) -> {
              outstanding.decrementAndGet();
              long micros = (System.nanoTime() - dueAt) / 1000;
              if (failure != null || response.statusCode() != 200) {
                errors.incrementAndGet();
                return;
              }
              recorder.recordValue(Math.max(1, micros));
              acked.incrementAndGet();
              if (response.body().contains("\"REJECTED\"")) rejected.incrementAndGet();
            });
  }

  private int pickSymbol(SplittableRandom random) {
    return switch (options.spread()) {
      case HOT -> 0;
      case UNIFORM -> random.nextInt(options.symbols().size());
      case ZIPF -> {
        double u = random.nextDouble();
        int lo = 0, hi = zipfCdf.length - 1;
        while (lo < hi) {
          int mid = (lo + hi) >>> 1;
          if (zipfCdf[mid] < u) lo = mid + 1;
          else hi = mid;
        }
        yield lo;
      }
    };
  }

  private static double[] zipfCdf(int n) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int k = 1; k <= n; k++) sum += 1.0 / k;
    double acc = 0;
    for (int k = 1; k <= n; k++) {
      acc += (1.0 / k) / sum;
      cdf[k - 1] = acc;
    }
    return cdf;
  }
}
