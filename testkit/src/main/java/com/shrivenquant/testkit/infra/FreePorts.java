package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Free TCP ports on 127.0.0.1, chosen by the kernel (bind to port 0).
 *
 * <p>A port is only free until somebody binds it: hand it to the server that needs it soon.
 * Ports handed out once are never handed out again by this JVM, so two servers started by one
 * test run cannot be given the same port before either has bound it.
 */
public final class FreePorts {

  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();
  private static final int MAX_ATTEMPTS = 1_000;
  private static final InetAddress LOOPBACK = loopbackV4();

  private FreePorts() {}

  private static InetAddress loopbackV4() {
    try {
      return InetAddress.getByAddress("127.0.0.1", new byte[] {127, 0, 0, 1});
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  public static int freePort() {
    return freePorts(1).get(0);
  }

  /** {@code count} distinct free ports. */
  public static List<Integer> freePorts(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("count must be >= 1, was " + count);
    }
    List<ServerSocket> held = new ArrayList<>();
    List<Integer> ports = new ArrayList<>();
    try {
      // Keep every socket open until all are chosen: the kernel cannot return one port twice.
      for (int attempt = 0; ports.size() < count; attempt++) {
        if (attempt >= MAX_ATTEMPTS) {
          throw new IllegalStateException("no " + count + " free loopback ports after " + attempt + " attempts");
        }
        ServerSocket socket = new ServerSocket();
        held.add(socket);
        socket.setReuseAddress(false);
        socket.bind(new InetSocketAddress(LOOPBACK, 0), 1);
        int port = socket.getLocalPort();
        if (HANDED_OUT.add(port)) {
          ports.add(port);
        }
      }
      return List.copyOf(ports);
    } catch (IOException e) {
      throw new UncheckedIOException("could not bind a loopback port", e);
    } finally {
      for (ServerSocket socket : held) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // closing a listening socket we own does not fail in a way we could act on
        }
      }
    }
  }
}
