package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 that can cut its traffic, for partition tests: put one in front of each
 * link that a test wants to break (a region to the witness database, a region to the other region's
 * Kafka or Akka HTTP) and point the client at {@link #port()}. The real PostgreSQL, Kafka and HTTP
 * traffic goes through it byte for byte until a test switches its {@link Mode}.
 *
 * <p>Two kinds of partition, because clients react to them differently:
 *
 * <ul>
 *   <li>{@link #blackhole()}, partition by silence (packets dropped, as by a dead link or a DROP
 *       firewall rule): open connections stay open, but the proxy reads and drops what either side
 *       sends and never passes on a close. New connections are accepted and never connected to the
 *       target. Peers notice only through their own timeouts (JDBC socket timeout, Kafka request
 *       timeout, Akka heartbeats). Unlike a real partition, writes keep succeeding (the proxy
 *       drains them, so the sender's buffer never fills), TCP keepalive probes are answered, and a
 *       new connection's connect() succeeds (the read after it times out instead).
 *   <li>{@link #reset()}, partition by refusal (a REJECT --reject-with tcp-reset rule, a restarted
 *       NAT or load balancer that lost its state): open connections are aborted with an RST on both
 *       sides, new ones are accepted and aborted at once. Peers fail fast with "connection reset"
 *       or EOF. Unlike a closed port, connect() usually succeeds and the first read or write fails
 *       (a connect that is slow to return may itself fail with the reset).
 * </ul>
 *
 * <p>{@link #restore()} heals the partition for new connections only. Connections that lived
 * through a blackhole are aborted on restore, as their peers would have dropped them after a long
 * partition: clients must reconnect, which is what a partition test wants to see.
 *
 * <p>Thread-per-connection (two daemon threads per connection, one per direction), plain blocking
 * sockets. Mode switches may come from any thread. Each chunk's write starts only after a check of
 * its connection's state under the connection's lock, and {@link #blackhole()} waits (up to 1 s)
 * for writes already started: once it returns, the proxy forwards no further byte. The one
 * exception is a write that was blocked longer than that on a peer that does not read: that chunk
 * (at most 16 KiB per direction) may still finish. Bytes the proxy wrote before the switch may
 * still sit in kernel buffers and reach the peer after.
 *
 * <p>A one-way {@link #delay(Duration) delay}, for a WAN link: each chunk read from either side is
 * written to the other side that long after it was read, in order, so a request and its response
 * each take it (a round trip costs twice the delay). It is a delay line, not a throttle: the
 * reading thread queues the chunk and reads on while a writer thread per direction (started with
 * the first delayed chunk) writes each chunk when it is due, so throughput does not fall with the
 * delay (up to a window of 32 MiB queued per direction). EOFs and read failures are passed on after
 * the chunks read before them. The delay can change at any time; a chunk read after a change never
 * overtakes one read before it. The mode switches hold as above: a delayed chunk is checked when it
 * is written, not when it was read, so {@link #blackhole()} drops every chunk still waiting, and
 * once it returns no further byte is forwarded. With no delay (the default) chunks are written by
 * the reading thread, with no extra thread or queue.
 */
public final class TcpProxy implements AutoCloseable {

  /** What the proxy does with traffic. */
  public enum Mode {
    /** Forwarding both ways. */
    FORWARD,
    /** Reading and dropping; nothing closed, nothing new connected. */
    BLACKHOLE,
    /** Aborting every connection with an RST. */
    RESET,
    /** {@link #close()}d: no longer listening. */
    CLOSED
  }

  static final long IN_FLIGHT_WAIT_MS = 1_000;
  private static final int BIND_ATTEMPTS = 20;
  private static final String HOST = "127.0.0.1";

  private final String name;
  final String targetHost;
  final int targetPort;
  private final ServerSocket server;
  private final Thread acceptor;

  /** Guards mode changes and registration of connections, so each new connection sees one mode. */
  private final Object lock = new Object();

  private volatile Mode mode = Mode.FORWARD;
  private volatile long delayNanos;
  private final Set<TcpProxyConnection> connections = ConcurrentHashMap.newKeySet();

  private final AtomicLong connectionIds = new AtomicLong();
  private final AtomicLong connectionsAccepted = new AtomicLong();
  // counted by the connections too
  final AtomicLong connectionsRefused = new AtomicLong();
  final AtomicLong bytesToTarget = new AtomicLong();
  final AtomicLong bytesToClient = new AtomicLong();
  final AtomicLong bytesDropped = new AtomicLong();

  private TcpProxy(String name, String targetHost, int targetPort, ServerSocket server) {
    this.name = name;
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.server = server;
    this.acceptor = TcpProxySockets.daemon(this::acceptLoop, "tcp-proxy-" + name + "-accept");
  }

  /** Listens on 127.0.0.1 on a free port and forwards every connection to the target. */
  public static TcpProxy start(String name, String targetHost, int targetPort) {
    return start(name, targetHost, targetPort, Duration.ZERO);
  }

  /**
   * Listens on 127.0.0.1 on a free port and forwards every connection to the target, each chunk
   * {@code delay} after it was read, in each direction (see {@link #delay(Duration)}).
   */
  public static TcpProxy start(String name, String targetHost, int targetPort, Duration delay) {
    Objects.requireNonNull(name, "name");
    long nanos = checkedNanos(delay);
    Objects.requireNonNull(targetHost, "targetHost");
    if (targetPort < 1 || targetPort > 65_535) {
      throw new IllegalArgumentException("targetPort out of range: " + targetPort);
    }
    TcpProxy proxy =
        new TcpProxy(
            name, targetHost, targetPort, TcpProxySockets.bindFreePort(HOST, BIND_ATTEMPTS));
    proxy.delayNanos = nanos;
    proxy.acceptor.start();
    return proxy;
  }

  /**
   * Sets the one-way delay of every connection, open or new, in both directions: a chunk read from
   * now on is written that long after it was read. Chunks already waiting keep their time. Zero
   * turns the delay line off once the chunks already waiting are written.
   */
  public void delay(Duration delay) {
    delayNanos = checkedNanos(delay);
  }

  /** The one-way delay; zero unless set. */
  public Duration delay() {
    return Duration.ofNanos(delayNanos);
  }

  long delayNanos() {
    return delayNanos;
  }

  private static long checkedNanos(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("negative delay: " + delay);
    }
    return delay.toNanos();
  }

  public String name() {
    return name;
  }

  /** Always 127.0.0.1. */
  public String host() {
    return HOST;
  }

  public int port() {
    return server.getLocalPort();
  }

  public Mode mode() {
    return mode;
  }

  /**
   * Partition by silence: from now on nothing is forwarded on open connections (in either
   * direction, closes included) and new connections are never connected to the target.
   */
  public void blackhole() {
    List<TcpProxyConnection> open;
    synchronized (lock) {
      if (mode == Mode.CLOSED) {
        return;
      }
      mode = Mode.BLACKHOLE;
      open = List.copyOf(connections);
      for (TcpProxyConnection c : open) {
        c.blackhole();
      }
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IN_FLIGHT_WAIT_MS);
    for (TcpProxyConnection c : open) {
      c.awaitWritesInFlight(deadline);
    }
  }

  /** Partition by refusal: aborts open connections with an RST and aborts new ones on accept. */
  public void reset() {
    List<TcpProxyConnection> open;
    synchronized (lock) {
      if (mode == Mode.CLOSED) {
        return;
      }
      mode = Mode.RESET;
      open = List.copyOf(connections);
    }
    open.forEach(TcpProxyConnection::abort);
  }

  /**
   * Heals the partition: new connections are forwarded again. Connections that were blackholed are
   * aborted (clients reconnect); connections still forwarding are left alone.
   */
  public void restore() {
    List<TcpProxyConnection> dead;
    synchronized (lock) {
      if (mode == Mode.CLOSED) {
        return;
      }
      mode = Mode.FORWARD;
      dead = connections.stream().filter(TcpProxyConnection::isBlackholed).toList();
    }
    dead.forEach(TcpProxyConnection::abort);
  }

  /** Connections accepted since start, including refused and blackholed ones. */
  public long connectionsAccepted() {
    return connectionsAccepted.get();
  }

  /** Connections aborted right after accept (in {@link Mode#RESET}, or the target was down). */
  public long connectionsRefused() {
    return connectionsRefused.get();
  }

  /** Connections accepted and not yet closed. */
  public int openConnections() {
    return connections.size();
  }

  /** Bytes written to the target. */
  public long bytesToTarget() {
    return bytesToTarget.get();
  }

  /** Bytes written back to clients. */
  public long bytesToClient() {
    return bytesToClient.get();
  }

  /** Bytes read and waiting in delay lines to be written, both directions, open connections. */
  public long bytesDelayed() {
    return connections.stream().mapToLong(TcpProxyConnection::bytesDelayed).sum();
  }

  /** Bytes forwarded in both directions. */
  public long bytesForwarded() {
    return bytesToTarget.get() + bytesToClient.get();
  }

  /**
   * Bytes read and dropped while blackholed (both directions), including delayed chunks dropped
   * before they were due.
   */
  public long bytesDropped() {
    return bytesDropped.get();
  }

  /** Stops listening and aborts every connection. Mode switches after this do nothing. */
  @Override
  public void close() {
    List<TcpProxyConnection> open;
    synchronized (lock) {
      if (mode == Mode.CLOSED) {
        return;
      }
      mode = Mode.CLOSED;
      open = List.copyOf(connections);
    }
    try {
      server.close();
    } catch (IOException ignored) {
      // closing a listening socket we own does not fail in a way we could act on
    }
    open.forEach(TcpProxyConnection::abort);
    try {
      acceptor.join(IN_FLIGHT_WAIT_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "TcpProxy["
        + name
        + " "
        + HOST
        + ":"
        + port()
        + " -> "
        + targetHost
        + ":"
        + targetPort
        + ", "
        + mode
        + (delayNanos == 0 ? "" : ", delay " + delay().toMillis() + " ms")
        + "]";
  }

  private void acceptLoop() {
    while (true) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (server.isClosed()) {
          return;
        }
        // an aborted handshake, or out of file descriptors: try again, without spinning
        TcpProxySockets.pause();
        continue;
      }
      connectionsAccepted.incrementAndGet();
      TcpProxyConnection connection;
      synchronized (lock) {
        Mode now = mode;
        if (now == Mode.RESET || now == Mode.CLOSED) {
          connectionsRefused.incrementAndGet();
          TcpProxySockets.abortSocket(client);
          continue;
        }
        connection =
            new TcpProxyConnection(
                this, connectionIds.incrementAndGet(), client, now == Mode.BLACKHOLE);
        connections.add(connection);
      }
      TcpProxySockets.daemon(connection::runClientSide, threadName(connection, "to-target"))
          .start();
    }
  }

  String threadName(TcpProxyConnection c, String direction) {
    return "tcp-proxy-" + name + "-" + c.id + "-" + direction;
  }

  /** A connection closed: no longer open, no longer cut by mode switches. */
  void forget(TcpProxyConnection c) {
    connections.remove(c);
  }
}
