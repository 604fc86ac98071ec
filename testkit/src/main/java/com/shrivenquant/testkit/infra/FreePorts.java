package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on 127.0.0.1, each proven free by binding it.
 *
 * <p>Candidates come from outside the kernel's ephemeral range (ip_local_port_range). A port from
 * {@code bind(0)} lies inside it, and every outgoing connection also takes a port from it: between
 * choosing a port and the server binding it, a connection (a node joining, a pool filling) can take
 * it. That happened here with three in-JVM cluster nodes. Outside the range only explicit binds
 * compete. Falls back to {@code bind(0)} if the range leaves no room.
 *
 * <p>A port is only free until somebody binds it: hand it to its server soon. Ports handed out once
 * are never handed out again by this JVM.
 */
public final class FreePorts {

  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();
  private static final int MAX_ATTEMPTS = 1_000;

  /** Below this are well-known and registered ports that local services like to use. */
  private static final int LOWEST = 10_000;

  private static final InetAddress LOOPBACK = loopbackV4();
  private static final int[] CANDIDATES = candidatePorts();

  private FreePorts() {}

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
      // Holding every socket until all are chosen also keeps bind(0) from returning one twice.
      for (int attempt = 0; ports.size() < count; attempt++) {
        if (attempt >= MAX_ATTEMPTS) {
          throw new IllegalStateException(
              "no " + count + " free loopback ports after " + attempt + " attempts");
        }
        int candidate =
            CANDIDATES.length == 0
                ? 0
                : CANDIDATES[ThreadLocalRandom.current().nextInt(CANDIDATES.length)];
        if (candidate != 0 && HANDED_OUT.contains(candidate)) {
          continue;
        }
        ServerSocket socket = tryBind(candidate);
        if (socket == null) {
          continue;
        }
        held.add(socket);
        if (HANDED_OUT.add(socket.getLocalPort())) {
          ports.add(socket.getLocalPort());
        }
      }
      return List.copyOf(ports);
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

  /** Null if the port is taken. */
  private static ServerSocket tryBind(int port) {
    ServerSocket socket = null;
    try {
      socket = new ServerSocket();
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(LOOPBACK, port), 1);
      return socket;
    } catch (IOException e) {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // it never bound
        }
      }
      if (port == 0) {
        throw new UncheckedIOException("could not bind any loopback port", e);
      }
      return null;
    }
  }

  private static int[] candidatePorts() {
    int[] ephemeral = ephemeralRange();
    List<int[]> ranges =
        List.of(new int[] {LOWEST, ephemeral[0] - 1}, new int[] {ephemeral[1] + 1, 65_535});
    int total = ranges.stream().mapToInt(r -> Math.max(0, r[1] - r[0] + 1)).sum();
    if (total < 1_000) {
      return new int[0];
    }
    int[] ports = new int[total];
    int i = 0;
    for (int[] r : ranges) {
      for (int p = r[0]; p <= r[1]; p++) {
        ports[i++] = p;
      }
    }
    return ports;
  }

  /**
   * Linux's range; elsewhere assume everything from 32768 up may be ephemeral (IANA says 49152).
   */
  private static int[] ephemeralRange() {
    try {
      String[] parts =
          Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
      return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
    } catch (IOException | RuntimeException e) {
      return new int[] {32_768, 65_535};
    }
  }

  private static InetAddress loopbackV4() {
    try {
      return InetAddress.getByAddress("127.0.0.1", new byte[] {127, 0, 0, 1});
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
