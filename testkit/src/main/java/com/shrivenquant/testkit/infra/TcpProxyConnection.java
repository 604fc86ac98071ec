package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * One connection accepted by a {@link TcpProxy} and, once connected, its twin to the target: two
 * pump threads (one per direction) that check the connection's state under its lock before each
 * chunk's write, so a mode switch of the proxy takes effect between chunks.
 *
 * <p>While the proxy has a {@link TcpProxy#delay() delay}, each pump hands what it reads to its
 * direction's {@link TcpProxyDelayLine} instead of writing it, and the line's writer thread writes
 * it once due, with the same state check before each chunk. Without a delay (and with nothing still
 * queued) the pump writes directly, as if there were no line.
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

  private final TcpProxyDelayLine toTargetLine;
  private final TcpProxyDelayLine toClientLine;

  TcpProxyConnection(TcpProxy proxy, long id, Socket client, boolean blackholed) {
    this.proxy = proxy;
    this.id = id;
    this.client = client;
    this.blackholed = blackholed;
    this.toTargetLine =
        new TcpProxyDelayLine(
            proxy.threadName(this, "to-target-delayed"), item -> handOver(item, true));
    this.toClientLine =
        new TcpProxyDelayLine(
            proxy.threadName(this, "to-client-delayed"), item -> handOver(item, false));
  }

  synchronized boolean isBlackholed() {
    return blackholed;
  }

  /** Cuts the connection by silence; chunks still waiting in a delay line are dropped. */
  void blackhole() {
    synchronized (this) {
      blackholed = true;
    }
    proxy.bytesDropped.addAndGet(toTargetLine.discard() + toClientLine.discard());
  }

  long bytesDelayed() {
    return toTargetLine.queuedBytes() + toClientLine.queuedBytes();
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

  /**
   * Copies from one socket to the other until EOF or an error, directly or through the direction's
   * delay line.
   */
  private void pump(Socket from, boolean toTarget) {
    TcpProxyDelayLine line = toTarget ? toTargetLine : toClientLine;
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
        passEnd(line, true, toTarget);
        return;
      }
      if (n < 0) {
        passEnd(line, false, toTarget);
        return;
      }
      if (isCut()) {
        proxy.bytesDropped.addAndGet(n); // dropped now, not after a delay
        continue;
      }
      if (!pass(line, buffer, n, toTarget)) {
        return;
      }
    }
  }

  /** A chunk: written now if there is no delay and nothing queued, else queued. */
  private boolean pass(TcpProxyDelayLine line, byte[] buffer, int n, boolean toTarget) {
    long delay = proxy.delayNanos();
    if (delay == 0 && line.idle()) {
      return write(buffer, n, toTarget);
    }
    if (!line.add(
        new TcpProxyDelayLine.Item(Arrays.copyOf(buffer, n), false, System.nanoTime() + delay))) {
      proxy.bytesDropped.addAndGet(n); // closed meanwhile
    }
    return true;
  }

  /** The end of a direction (EOF, or a read failure): handled now, or after what is queued. */
  private void passEnd(TcpProxyDelayLine line, boolean failure, boolean toTarget) {
    long delay = proxy.delayNanos();
    if ((delay == 0 && line.idle())
        || !line.add(new TcpProxyDelayLine.Item(null, failure, System.nanoTime() + delay))) {
      endDirection(failure, toTarget);
    }
  }

  /** Runs on a delay line's writer thread once the item is due. */
  private void handOver(TcpProxyDelayLine.Item item, boolean toTarget) {
    if (item.bytes() == null) {
      endDirection(item.failure(), toTarget);
    } else {
      write(item.bytes(), item.bytes().length, toTarget);
    }
  }

  private void endDirection(boolean failure, boolean toTarget) {
    if (failure) {
      failed();
    } else {
      ended(toTarget);
    }
  }

  /**
   * Writes a chunk unless the connection is cut (then it is dropped). False if the write failed:
   * the connection is aborted.
   */
  private boolean write(byte[] bytes, int n, boolean toTarget) {
    Socket to = beginWrite(toTarget);
    if (to == null) {
      proxy.bytesDropped.addAndGet(n);
      return true;
    }
    try {
      OutputStream out = to.getOutputStream();
      out.write(bytes, 0, n);
      (toTarget ? proxy.bytesToTarget : proxy.bytesToClient).addAndGet(n);
    } catch (IOException e) {
      endWrite();
      failed();
      return false;
    }
    endWrite();
    return true;
  }

  private synchronized boolean isCut() {
    return closed || blackholed;
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
    stopLines();
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
    stopLines();
    TcpProxySockets.abortSocket(client);
    TcpProxySockets.abortSocket(t);
  }

  private void stopLines() {
    proxy.bytesDropped.addAndGet(toTargetLine.stop() + toClientLine.stop());
  }
}
