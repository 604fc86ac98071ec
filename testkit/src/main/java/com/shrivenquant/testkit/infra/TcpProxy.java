package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
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

  static final int CHUNK_BYTES = 16 * 1024;
  static final long IN_FLIGHT_WAIT_MS = 1_000;
  private static final int CONNECT_TIMEOUT_MS = 5_000;
  private static final int BIND_ATTEMPTS = 20;
  private static final String HOST = "127.0.0.1";

  private final String name;
  private final String targetHost;
  private final int targetPort;
  private final ServerSocket server;
  private final Thread acceptor;

  /** Guards mode changes and registration of connections, so each new connection sees one mode. */
  private final Object lock = new Object();

  private volatile Mode mode = Mode.FORWARD;
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();

  private final AtomicLong connectionIds = new AtomicLong();
  private final AtomicLong connectionsAccepted = new AtomicLong();
  private final AtomicLong connectionsRefused = new AtomicLong();
  private final AtomicLong bytesToTarget = new AtomicLong();
  private final AtomicLong bytesToClient = new AtomicLong();
  private final AtomicLong bytesDropped = new AtomicLong();

  private TcpProxy(String name, String targetHost, int targetPort, ServerSocket server) {
    this.name = name;
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.server = server;
    this.acceptor = daemon(this::acceptLoop, "tcp-proxy-" + name + "-accept");
  }

  /** Listens on 127.0.0.1 on a free port and forwards every connection to the target. */
  public static TcpProxy start(String name, String targetHost, int targetPort) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(targetHost, "targetHost");
    if (targetPort < 1 || targetPort > 65_535) {
      throw new IllegalArgumentException("targetPort out of range: " + targetPort);
    }
    TcpProxy proxy = new TcpProxy(name, targetHost, targetPort, bindFreePort());
    proxy.acceptor.start();
    return proxy;
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
    List<Connection> open;
    synchronized (lock) {
      if (mode == Mode.CLOSED) {
        return;
      }
      mode = Mode.BLACKHOLE;
      open = List.copyOf(connections);
      for (Connection c : open) {
        c.blackhole();
      }
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IN_FLIGHT_WAIT_MS);
    for (Connection c : open) {
      c.awaitWritesInFlight(deadline);
    }
  }

  /** Partition by refusal: aborts open connections with an RST and aborts new ones on accept. */
  public void reset() {
    List<Connection> open;
    synchronized (lock) {
      if (mode == Mode.CLOSED) {
        return;
      }
      mode = Mode.RESET;
      open = List.copyOf(connections);
    }
    open.forEach(Connection::abort);
  }

  /**
   * Heals the partition: new connections are forwarded again. Connections that were blackholed are
   * aborted (clients reconnect); connections still forwarding are left alone.
   */
  public void restore() {
    List<Connection> dead;
    synchronized (lock) {
      if (mode == Mode.CLOSED) {
        return;
      }
      mode = Mode.FORWARD;
      dead = connections.stream().filter(Connection::isBlackholed).toList();
    }
    dead.forEach(Connection::abort);
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

  /** Bytes forwarded in both directions. */
  public long bytesForwarded() {
    return bytesToTarget.get() + bytesToClient.get();
  }

  /** Bytes read and dropped while blackholed, both directions. */
  public long bytesDropped() {
    return bytesDropped.get();
  }

  /** Stops listening and aborts every connection. Mode switches after this do nothing. */
  @Override
  public void close() {
    List<Connection> open;
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
    open.forEach(Connection::abort);
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
        pause(); // an aborted handshake, or out of file descriptors: try again, without spinning
        continue;
      }
      connectionsAccepted.incrementAndGet();
      Connection connection;
      synchronized (lock) {
        Mode now = mode;
        if (now == Mode.RESET || now == Mode.CLOSED) {
          connectionsRefused.incrementAndGet();
          abortSocket(client);
          continue;
        }
        connection = new Connection(connectionIds.incrementAndGet(), client, now == Mode.BLACKHOLE);
        connections.add(connection);
      }
      daemon(connection::runClientSide, threadName(connection, "to-target")).start();
    }
  }

  private String threadName(Connection c, String direction) {
    return "tcp-proxy-" + name + "-" + c.id + "-" + direction;
  }

  /** One accepted connection and, once connected, its twin to the target. */
  private final class Connection {
    final long id;
    final Socket client;
    // all guarded by this
    private Socket target;
    private boolean blackholed;
    private boolean closed;
    private int writesInFlight;
    private int directionsEnded;

    Connection(long id, Socket client, boolean blackholed) {
      this.id = id;
      this.client = client;
      this.blackholed = blackholed;
    }

    synchronized boolean isBlackholed() {
      return blackholed;
    }

    synchronized void blackhole() {
      blackholed = true;
    }

    synchronized void awaitWritesInFlight(long deadlineNanos) {
      try {
        long left;
        while (writesInFlight > 0 && (left = deadlineNanos - System.nanoTime()) > 0) {
          TimeUnit.NANOSECONDS.timedWait(this, left);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /**
     * Runs on this connection's first thread: connects (unless blackholed), then pumps client to
     * target.
     */
    void runClientSide() {
      setNoDelay(client);
      if (!isBlackholed() && !connectTarget()) {
        return;
      }
      pump(client, true);
    }

    /** False if the connection was aborted and there is nothing to pump. */
    private boolean connectTarget() {
      Socket socket = new Socket();
      try {
        socket.connect(new InetSocketAddress(targetHost, targetPort), CONNECT_TIMEOUT_MS);
        setNoDelay(socket);
      } catch (IOException e) {
        abortSocket(socket);
        synchronized (this) {
          if (blackholed) {
            return true; // partitioned meanwhile: the client just sees silence
          }
        }
        connectionsRefused.incrementAndGet();
        abort();
        return false;
      }
      synchronized (this) {
        if (closed || blackholed) {
          // cut while connecting: as if the handshake never got through
          abortSocket(socket);
          return !closed;
        }
        target = socket;
      }
      daemon(() -> pump(socket, false), threadName(this, "to-client")).start();
      return true;
    }

    /** Copies from one socket to the other until EOF or an error, checking the state per chunk. */
    private void pump(Socket from, boolean toTarget) {
      AtomicLong forwarded = toTarget ? bytesToTarget : bytesToClient;
      byte[] buffer = new byte[CHUNK_BYTES];
      InputStream in;
      try {
        in = from.getInputStream();
      } catch (IOException e) {
        failed();
        return;
      }
      while (true) {
        int n;
        try {
          n = in.read(buffer);
        } catch (IOException e) {
          failed();
          return;
        }
        if (n < 0) {
          ended(toTarget);
          return;
        }
        Socket to = beginWrite(toTarget);
        if (to == null) {
          bytesDropped.addAndGet(n);
          continue;
        }
        try {
          OutputStream out = to.getOutputStream();
          out.write(buffer, 0, n);
          forwarded.addAndGet(n);
        } catch (IOException e) {
          endWrite();
          failed();
          return;
        }
        endWrite();
      }
    }

    /** The socket to write to, or null to drop the chunk; non-null counts as a write in flight. */
    private synchronized Socket beginWrite(boolean toTarget) {
      if (closed || blackholed) {
        return null;
      }
      writesInFlight++;
      return toTarget ? target : client;
    }

    private synchronized void endWrite() {
      writesInFlight--;
      notifyAll();
    }

    /**
     * EOF from one side: passed on as a half-close while forwarding, swallowed while blackholed.
     */
    private void ended(boolean toTarget) {
      boolean bothEnded;
      synchronized (this) {
        if (closed || blackholed) {
          return;
        }
        try {
          (toTarget ? target : client).shutdownOutput();
        } catch (IOException e) {
          // the other side is gone already; its own pump will notice
        }
        bothEnded = ++directionsEnded == 2;
      }
      if (bothEnded) {
        closeGracefully();
      }
    }

    /** A read or write failed: passed on as an RST while forwarding, swallowed while blackholed. */
    private void failed() {
      synchronized (this) {
        if (closed || blackholed) {
          return;
        }
      }
      abort();
    }

    private void closeGracefully() {
      Socket t;
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        t = target;
      }
      connections.remove(this);
      closeQuietly(client);
      closeQuietly(t);
    }

    /** Closes both sides with an RST. */
    void abort() {
      Socket t;
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        t = target;
      }
      connections.remove(this);
      abortSocket(client);
      abortSocket(t);
    }
  }

  private static ServerSocket bindFreePort() {
    InetAddress loopback;
    try {
      loopback = InetAddress.getByAddress(HOST, new byte[] {127, 0, 0, 1});
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    IOException last = null;
    for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      ServerSocket socket = null;
      try {
        socket = new ServerSocket();
        socket.bind(new InetSocketAddress(loopback, FreePorts.freePort()));
        return socket;
      } catch (BindException e) {
        // taken between FreePorts's check and our bind: another one
        last = e;
        closeQuietly(socket);
      } catch (IOException e) {
        closeQuietly(socket);
        throw new UncheckedIOException("could not listen on " + HOST, e);
      }
    }
    throw new UncheckedIOException(
        "no free port to listen on after " + BIND_ATTEMPTS + " attempts", last);
  }

  private static Thread daemon(Runnable body, String name) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    return thread;
  }

  private static void pause() {
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void setNoDelay(Socket socket) {
    try {
      // the proxy must not add Nagle delays to the small request/response messages it carries
      socket.setTcpNoDelay(true);
    } catch (IOException ignored) {
      // already closed; the pump will find out
    }
  }

  /** Close with an RST (SO_LINGER 0) instead of a FIN. */
  private static void abortSocket(Socket socket) {
    if (socket == null) {
      return;
    }
    try {
      socket.setSoLinger(true, 0);
    } catch (IOException ignored) {
      // already closed
    }
    closeQuietly(socket);
  }

  private static void closeQuietly(AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception ignored) {
      // nothing to do about a socket that will not close
    }
  }
}
