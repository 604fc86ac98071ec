package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Socket and thread chores of {@link TcpProxy}: listening, aborting with an RST, quiet closes. */
final class TcpProxySockets {

  private TcpProxySockets() {}

  /** Listens on a free port of 127.0.0.1 ({@code host} is its name in messages). */
  static ServerSocket bindFreePort(String host, int attempts) {
    InetAddress loopback;
    try {
      loopback = InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1});
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    IOException last = null;
    for (int attempt = 0; attempt < attempts; attempt++) {
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
        throw new UncheckedIOException("could not listen on " + host, e);
      }
    }
    throw new UncheckedIOException(
        "no free port to listen on after " + attempts + " attempts", last);
  }

  static Thread daemon(Runnable body, String name) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    return thread;
  }

  static void pause() {
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void setNoDelay(Socket socket) {
    try {
      // the proxy must not add Nagle delays to the small request/response messages it carries
      socket.setTcpNoDelay(true);
    } catch (IOException ignored) {
      // already closed; the pump will find out
    }
  }

  /** Close with an RST (SO_LINGER 0) instead of a FIN. */
  static void abortSocket(Socket socket) {
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

  static void closeQuietly(AutoCloseable closeable) {
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
