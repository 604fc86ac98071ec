package com.shrivenquant.local.dev;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * An open-loop order flow: orders are due at a fixed arrival rate and each order's latency is
 * measured from the time it was due, not from when it was sent, so a stalled server cannot hide its
 * stall by slowing the client down (no coordinated omission).
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
      int connectionsPerNode,
      int rampSeconds,
      long seed) {}

  /** One interval's figures; latencies in microseconds. */
  public record Interval(
      long due, long acked, long rejected, long errors, long dropped, Histogram latency) {}

  private final Options options;
  private final Recorder recorder = new Recorder(3);
  private final Histogram total = new Histogram(3);
  private final AtomicLong due = new AtomicLong();
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final double[] zipfCdf;
  private final List<BlockingQueue<Due>> queues = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final String runId = Long.toString(System.currentTimeMillis(), 36);

  /** An order and the time it was due. */
  private record Due(long dueAt, byte[] body) {}

  public OrderLoad(Options options) {
    this.options = options;
    this.zipfCdf = zipfCdf(options.symbols().size());
    int perNodeQueue = Math.max(1, options.maxOutstanding() / options.nodes().size());
    for (URI node : options.nodes()) {
      BlockingQueue<Due> queue = new ArrayBlockingQueue<>(perNodeQueue);
      queues.add(queue);
      for (int c = 0; c < options.connectionsPerNode(); c++) {
        threads.add(
            daemon(new Connection(node, queue)::run, "order-load-" + node.getPort() + "-" + c));
      }
    }
    threads.add(daemon(this::pace, "order-load-pacer"));
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public OrderLoad start() {
    threads.forEach(Thread::start);
    return this;
  }

  /** Figures since the previous sample. */
  public synchronized Interval sample() {
    drain();
    long[] now = counters();
    Interval i =
        new Interval(
            now[0] - last[0],
            now[1] - last[1],
            now[2] - last[2],
            now[3] - last[3],
            now[4] - last[4],
            sinceSample);
    sinceSample = new Histogram(3);
    last = now;
    return i;
  }

  /** The whole run so far. */
  public synchronized Interval totals() {
    drain();
    long[] now = counters();
    return new Interval(now[0], now[1], now[2], now[3], now[4], total.copy());
  }

  private Histogram sinceSample = new Histogram(3);

  private void drain() {
    Histogram h = recorder.getIntervalHistogram();
    total.add(h);
    sinceSample.add(h);
  }

  private long[] last = new long[5];

  private long[] counters() {
    return new long[] {due.get(), acked.get(), rejected.get(), errors.get(), dropped.get()};
  }

  @Override
  public void close() {
    running.set(false);
    threads.forEach(Thread::interrupt);
    for (Thread t : threads) {
      try {
        t.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void pace() {
    SplittableRandom random = new SplittableRandom(options.seed());
    long start = System.nanoTime();
    long rampNanos = options.rampSeconds() * 1_000_000_000L;
    double rate = options.ratePerSecond();
    // Due times are fixed up front (a linear ramp, then the full rate), whatever the server does.
    double dueNanos = 0;
    for (long i = 0; running.get(); i++) {
      double currentRate =
          dueNanos < rampNanos ? Math.max(rate * 0.05, rate * dueNanos / rampNanos) : rate;
      dueNanos += 1e9 / currentRate;
      long dueAt = start + (long) dueNanos;
      long wait;
      while ((wait = dueAt - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
        if (!running.get()) return;
      }
      due.incrementAndGet();
      BlockingQueue<Due> queue = queues.get((int) (i % queues.size()));
      if (!queue.offer(new Due(dueAt, body(i, random)))) {
        dropped
            .incrementAndGet(); // the server is too far behind; count, do not queue without bound
      }
    }
  }

  private byte[] body(long i, SplittableRandom random) {
    String symbol = options.symbols().get(pickSymbol(random));
    boolean buy = random.nextBoolean();
    // Prices around the reference, inside the default 10% band; both sides cross often.
    long offset = random.nextLong(-20, 21) * Math.max(1, options.referencePrice() / 1000);
    long price = options.referencePrice() + offset;
    boolean ioc = random.nextInt(10) == 0;
    return ("{\"instrument\":\""
            + symbol
            + "\",\"account\":\"acct-"
            + random.nextInt(options.accounts())
            + "\",\"clientOrderId\":\""
            + runId
            + "-"
            + i
            + "\",\"side\":\""
            + (buy ? "BUY" : "SELL")
            + "\",\"type\":\"LIMIT\",\"price\":"
            + price
            + ",\"quantity\":"
            + (1 + random.nextInt(10))
            + ",\"timeInForce\":\""
            + (ioc ? "IOC" : "GTC")
            + "\"}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * One keep-alive HTTP/1.1 connection with one request in flight: a fixed number of them per node
   * keeps a slow server from being buried under new connections.
   */
  private final class Connection {
    private final URI node;
    private final BlockingQueue<Due> queue;
    private final byte[] head;
    private Socket socket;
    private BufferedInputStream in;
    private OutputStream out;

    Connection(URI node, BlockingQueue<Due> queue) {
      this.node = node;
      this.queue = queue;
      this.head =
          ("POST /api/v1/orders HTTP/1.1\r\nHost: "
                  + node.getHost()
                  + ":"
                  + node.getPort()
                  + "\r\nContent-Type: application/json\r\nContent-Length: ")
              .getBytes(StandardCharsets.US_ASCII);
    }

    void run() {
      while (running.get()) {
        Due d;
        try {
          d = queue.take();
        } catch (InterruptedException e) {
          return;
        }
        int status = -1;
        String body = null;
        // A retry is safe: the clientOrderId makes it the same order.
        for (int attempt = 0; attempt < 2 && status < 0 && running.get(); attempt++) {
          try {
            if (socket == null) connect();
            out.write(head);
            out.write((d.body().length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(d.body());
            out.flush();
            status = readStatus();
            body = readBody();
          } catch (IOException e) {
            status = -1;
            disconnect();
          }
        }
        long micros = (System.nanoTime() - d.dueAt()) / 1000;
        if (status != 200) {
          errors.incrementAndGet();
          continue;
        }
        recorder.recordValue(Math.max(1, micros));
        acked.incrementAndGet();
        if (body.contains("\"REJECTED\"")) rejected.incrementAndGet();
      }
      disconnect();
    }

    private void connect() throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(node.getHost(), node.getPort()), 2000);
      socket.setSoTimeout(15_000);
      in = new BufferedInputStream(socket.getInputStream(), 16384);
      out = new BufferedOutputStream(socket.getOutputStream(), 16384);
    }

    private void disconnect() {
      try {
        if (socket != null) socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      socket = null;
    }

    private int contentLength;

    private int readStatus() throws IOException {
      String statusLine = readLine();
      if (statusLine == null) throw new IOException("connection closed");
      int status = Integer.parseInt(statusLine.substring(9, 12));
      contentLength = 0;
      String line;
      while ((line = readLine()) != null && !line.isEmpty()) {
        if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
          contentLength = Integer.parseInt(line.substring(15).trim());
        }
      }
      return status;
    }

    private String readBody() throws IOException {
      byte[] b = in.readNBytes(contentLength);
      if (b.length < contentLength) throw new IOException("short body");
      return new String(b, StandardCharsets.UTF_8);
    }

    private String readLine() throws IOException {
      StringBuilder sb = new StringBuilder(64);
      int c;
      while ((c = in.read()) != -1) {
        if (c == '\n') {
          int n = sb.length();
          if (n > 0 && sb.charAt(n - 1) == '\r') sb.setLength(n - 1);
          return sb.toString();
        }
        sb.append((char) c);
      }
      return sb.length() == 0 ? null : sb.toString();
    }
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
