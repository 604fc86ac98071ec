package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection accepted by a {@link TcpProxy} and, once connected, its twin to the target: two
 * pump threads (one per direction) that check the connection's state under its lock before each
 * chunk's write, so a mode switch of the proxy takes effect between chunks.
 */
final class TcpProxyConnection {

  static final int CHUNK_BYTES = 16 * 1024;
  private static final int CONNECT_TIMEOUT_MS = 5_000;

  private final TcpProxy proxy;
  final long id;
  final Socket client;
  // all guarded by this
  private Socket target;
  private boolean blackholed;
  private boolean closed;
  private int writesInFlight;
  private int directionsEnded;

  TcpProxyConnection(TcpProxy proxy, long id, Socket client, boolean blackholed) {
    this.proxy = proxy;
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
    TcpProxySockets.setNoDelay(client);
    if (!isBlackholed() && !connectTarget()) {
      return;
    }
    pump(client, true);
  }

  /** False if the connection was aborted and there is nothing to pump. */
  private boolean connectTarget() {
    Socket socket = new Socket();
    try {
      socket.connect(new InetSocketAddress(proxy.targetHost, proxy.targetPort), CONNECT_TIMEOUT_MS);
      TcpProxySockets.setNoDelay(socket);
    } catch (IOException e) {
      TcpProxySockets.abortSocket(socket);
      synchronized (this) {
        if (blackholed) {
          return true; // partitioned meanwhile: the client just sees silence
        }
      }
      proxy.connectionsRefused.incrementAndGet();
      abort();
      return false;
    }
    synchronized (this) {
      if (closed || blackholed) {
        // cut while connecting: as if the handshake never got through
        TcpProxySockets.abortSocket(socket);
        return !closed;
      }
      target = socket;
    }
    TcpProxySockets.daemon(() -> pump(socket, false), proxy.threadName(this, "to-client")).start();
    return true;
  }

  /** Copies from one socket to the other until EOF or an error, checking the state per chunk. */
  private void pump(Socket from, boolean toTarget) {
    AtomicLong forwarded = toTarget ? proxy.bytesToTarget : proxy.bytesToClient;
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
        proxy.bytesDropped.addAndGet(n);
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

  /** EOF from one side: passed on as a half-close while forwarding, swallowed while blackholed. */
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
    proxy.forget(this);
    TcpProxySockets.closeQuietly(client);
    TcpProxySockets.closeQuietly(t);
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
    proxy.forget(this);
    TcpProxySockets.abortSocket(client);
    TcpProxySockets.abortSocket(t);
  }
}
