package com.shrivenquant.testkit.infra;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.shrivenquant.testkit.Eventually;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Real sockets: an echo server behind the proxy, clients in front of it. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class TcpProxyTest {

  /** Long enough for a forwarded byte to make a loopback round trip many times over. */
  private static final int SILENCE_MS = 300;

  private static final Duration WAIT = Duration.ofSeconds(5);

  private EchoServer echo;
  private TcpProxy proxy;

  @BeforeEach
  void start() throws IOException {
    echo = new EchoServer();
    proxy = TcpProxy.start("test", "127.0.0.1", echo.port());
  }

  @AfterEach
  void stop() {
    proxy.close();
    echo.close();
  }

  @Test
  void forwardsBothWaysByteForByte() throws Exception {
    try (Socket client = connect()) {
      assertEquals("hello", roundTrip(client, "hello"));

      byte[] payload = new byte[1 << 20];
      new Random(42).nextBytes(payload);
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                try {
                  client.getOutputStream().write(payload);
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      assertArrayEquals(payload, client.getInputStream().readNBytes(payload.length));
      writer.get(5, TimeUnit.SECONDS);
    }
    assertEquals(1, proxy.connectionsAccepted());
    assertEquals(1, echo.connections.get());
    assertEquals(5 + (1 << 20), proxy.bytesToTarget());
    assertEquals(5 + (1 << 20), proxy.bytesToClient());
    assertEquals(5 + (1 << 20), echo.bytesReceived.get());
    assertEquals(0, proxy.bytesDropped());
  }

  @Test
  void passesOnHalfClose() throws Exception {
    try (Socket client = connect()) {
      assertEquals("bye", roundTrip(client, "bye"));
      client.shutdownOutput(); // the echo server closes when it sees EOF
      client.setSoTimeout(2_000);
      assertEquals(-1, client.getInputStream().read());
    }
    Eventually.await(
        "proxy dropped the finished connection", WAIT, proxy::openConnections, n -> n == 0);
  }

  @Test
  void blackholeSilencesOpenAndNewConnectionsUntilRestore() throws Exception {
    try (Socket old = connect()) {
      assertEquals("before", roundTrip(old, "before"));
      long received = echo.bytesReceived.get();

      proxy.blackhole();
      assertEquals(TcpProxy.Mode.BLACKHOLE, proxy.mode());
      send(old, "lost");
      assertSilent(old);
      assertEquals(received, echo.bytesReceived.get(), "the echo server got nothing new");
      Eventually.await(
          "the proxy read and dropped the bytes", WAIT, proxy::bytesDropped, n -> n == 4);
      assertTrue(!old.isClosed() && old.isConnected(), "nothing was closed");

      try (Socket fresh = connect()) {
        send(fresh, "anyone?");
        assertSilent(fresh);
      }
      assertEquals(1, echo.connections.get(), "a new connection never reached the target");
      assertEquals(received, echo.bytesReceived.get());

      proxy.restore();
      assertEquals(TcpProxy.Mode.FORWARD, proxy.mode());
      assertDead(old);
    }
    try (Socket reconnected = connect()) {
      assertEquals("after", roundTrip(reconnected, "after"));
    }
    assertEquals(2, echo.connections.get());
  }

  @Test
  void nothingIsForwardedOnceBlackholeReturns() throws Exception {
    try (Socket client = connect()) {
      AtomicBoolean running = new AtomicBoolean(true);
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                byte[] chunk = new byte[1024];
                try {
                  while (running.get()) {
                    client.getOutputStream().write(chunk);
                  }
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      CompletableFuture<Void> reader =
          CompletableFuture.runAsync(
              () -> {
                try {
                  client.getInputStream().transferTo(OutputStream.nullOutputStream());
                } catch (IOException ignored) {
                  // closed at the end of the test
                }
              });
      Eventually.await("traffic flows", WAIT, proxy::bytesToTarget, n -> n > 100_000);

      proxy.blackhole();
      long toTarget = proxy.bytesToTarget();
      long toClient = proxy.bytesToClient();
      long dropped = proxy.bytesDropped();
      Thread.sleep(SILENCE_MS);
      assertEquals(
          toTarget, proxy.bytesToTarget(), "no byte forwarded to the target after blackhole()");
      assertEquals(
          toClient, proxy.bytesToClient(), "no byte forwarded to the client after blackhole()");
      assertTrue(proxy.bytesDropped() > dropped, "the client kept writing, into the void");
      // What the proxy wrote before the switch may still have been in flight; nothing after it.
      Eventually.await(
          "the echo server got exactly what was forwarded",
          WAIT,
          echo.bytesReceived::get,
          n -> n == toTarget);
      running.set(false);
      writer.get(5, TimeUnit.SECONDS);
      client.close();
      reader.get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void resetAbortsOpenConnectionsAndRefusesNewOnesUntilRestore() throws Exception {
    try (Socket old = connect()) {
      assertEquals("before", roundTrip(old, "before"));
      proxy.reset();
      assertEquals(TcpProxy.Mode.RESET, proxy.mode());
      assertDead(old);
    }
    Eventually.await(
        "the target side was aborted too", WAIT, echo.openConnections::get, n -> n == 0);

    assertRefused();
    assertEquals(1, echo.connections.get(), "a refused connection never reached the target");
    assertEquals(1, proxy.connectionsRefused());
    assertEquals(0, proxy.openConnections());

    proxy.restore();
    try (Socket reconnected = connect()) {
      assertEquals("after", roundTrip(reconnected, "after"));
    }
    assertEquals(2, echo.connections.get());
  }

  @Test
  void closeFreesThePortAndClosesConnections() throws Exception {
    int port = proxy.port();
    try (Socket client = connect()) {
      assertEquals("hi", roundTrip(client, "hi"));
      proxy.close();
      assertEquals(TcpProxy.Mode.CLOSED, proxy.mode());
      assertDead(client);
    }
    try (ServerSocket again = new ServerSocket()) {
      again.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
    }
    proxy.restore(); // after close: nothing happens
    assertEquals(TcpProxy.Mode.CLOSED, proxy.mode());
  }

  @Test
  void aDelayedRoundTripTakesAtLeastTwiceTheDelay() throws Exception {
    Duration delay = Duration.ofMillis(100);
    try (TcpProxy delayed = TcpProxy.start("delayed", "127.0.0.1", echo.port(), delay);
        Socket client = connect(delayed)) {
      assertEquals(delay, delayed.delay());
      long start = System.nanoTime();
      assertEquals("ping", roundTrip(client, "ping"));
      assertAtLeast(delay.multipliedBy(2), Duration.ofNanos(System.nanoTime() - start));
    }
  }

  @Test
  void theDelayCanBeSetAndClearedWhileConnectionsAreOpen() throws Exception {
    try (Socket client = connect()) {
      assertEquals("direct", roundTrip(client, "direct"));
      assertEquals(Duration.ZERO, proxy.delay());

      Duration delay = Duration.ofMillis(80);
      proxy.delay(delay);
      long start = System.nanoTime();
      assertEquals("slow", roundTrip(client, "slow"));
      assertAtLeast(delay.multipliedBy(2), Duration.ofNanos(System.nanoTime() - start));

      proxy.delay(Duration.ZERO);
      assertEquals("direct again", roundTrip(client, "direct again"));
    }
    assertThrows(IllegalArgumentException.class, () -> proxy.delay(Duration.ofMillis(-1)));
  }

  @Test
  void delayedBytesArriveIntactAndInOrder() throws Exception {
    proxy.delay(Duration.ofMillis(30));
    byte[] payload = new byte[4 << 20];
    new Random(7).nextBytes(payload);
    try (Socket client = connect()) {
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                // Many small chunks, each its own write; the delay drops to zero halfway, so
                // chunks read after that are due before earlier ones and must wait their turn.
                Random sizes = new Random(11);
                try {
                  OutputStream out = client.getOutputStream();
                  int offset = 0;
                  while (offset < payload.length) {
                    if (offset >= payload.length / 2 && !proxy.delay().isZero()) {
                      proxy.delay(Duration.ZERO);
                    }
                    int n = Math.min(1 + sizes.nextInt(6_000), payload.length - offset);
                    out.write(payload, offset, n);
                    out.flush();
                    offset += n;
                  }
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      assertArrayEquals(payload, client.getInputStream().readNBytes(payload.length));
      writer.get(5, TimeUnit.SECONDS);
    }
    assertEquals(payload.length, proxy.bytesToTarget());
    assertEquals(payload.length, proxy.bytesToClient());
    assertEquals(0, proxy.bytesDropped());
  }

  @Test
  void aDelayedHalfCloseComesAfterTheBytesBeforeIt() throws Exception {
    proxy.delay(Duration.ofMillis(50));
    try (Socket client = connect()) {
      send(client, "last words");
      client.shutdownOutput();
      client.setSoTimeout(2_000);
      assertEquals(
          "last words", new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
    Eventually.await(
        "proxy dropped the finished connection", WAIT, proxy::openConnections, n -> n == 0);
  }

  @Test
  void blackholeDropsDelayedChunksStillWaiting() throws Exception {
    Duration delay = Duration.ofMillis(500);
    try (Socket client = connect()) {
      assertEquals("before", roundTrip(client, "before"));
      long received = echo.bytesReceived.get();
      long toTarget = proxy.bytesToTarget();

      proxy.delay(delay);
      send(client, "queued");
      Eventually.await(
          "the proxy read the chunk into its delay line", WAIT, proxy::bytesDelayed, n -> n == 6);
      proxy.blackhole();
      assertEquals(0, proxy.bytesDelayed(), "the waiting chunk was dropped");
      assertEquals(6, proxy.bytesDropped());

      Thread.sleep(delay.toMillis() + SILENCE_MS);
      assertEquals(toTarget, proxy.bytesToTarget(), "nothing forwarded after blackhole()");
      assertEquals(received, echo.bytesReceived.get(), "the echo server got nothing new");
      assertSilent(client);
    }
  }

  private Socket connect() throws IOException {
    return connect(proxy);
  }

  private static Socket connect(TcpProxy to) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(to.host(), to.port()), 2_000);
    return socket;
  }

  /** A lower bound only: a noisy machine makes anything slower, never faster. */
  private static void assertAtLeast(Duration least, Duration took) {
    assertTrue(
        took.compareTo(least) >= 0,
        "took " + took.toMillis() + " ms, less than " + least.toMillis());
  }

  /** Connecting fails with a reset, or succeeds and the first read sees EOF or a reset. */
  private void assertRefused() throws IOException {
    Socket socket = new Socket();
    try (socket) {
      try {
        socket.connect(new InetSocketAddress(proxy.host(), proxy.port()), 2_000);
      } catch (SocketTimeoutException e) {
        fail("connect timed out instead of being refused");
      } catch (IOException resetWhileConnecting) {
        return; // the RST overtook the end of connect()
      }
      assertDead(socket);
    }
  }

  private static void send(Socket socket, String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    socket.getOutputStream().flush();
  }

  private static String roundTrip(Socket socket, String text) throws IOException {
    send(socket, text);
    socket.setSoTimeout(2_000);
    byte[] back = socket.getInputStream().readNBytes(text.length());
    return new String(back, StandardCharsets.UTF_8);
  }

  private static void assertSilent(Socket socket) throws IOException {
    socket.setSoTimeout(SILENCE_MS);
    assertThrows(SocketTimeoutException.class, () -> socket.getInputStream().read());
  }

  /** EOF or an error (connection reset) on read; a timeout means the connection is still alive. */
  private static void assertDead(Socket socket) throws IOException {
    socket.setSoTimeout(2_000);
    try {
      int read = socket.getInputStream().read();
      assertEquals(-1, read, "expected EOF, got a byte");
    } catch (SocketTimeoutException e) {
      fail("connection still open: read timed out");
    } catch (IOException expected) {
      // connection reset
    }
  }

  /** Echoes every byte back; closes a connection on EOF. Counts what it received. */
  private static final class EchoServer implements AutoCloseable {
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger openConnections = new AtomicInteger();
    final AtomicLong bytesReceived = new AtomicLong();
    private final ServerSocket server;

    EchoServer() throws IOException {
      server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      Thread acceptor = new Thread(this::acceptLoop, "echo-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void acceptLoop() {
      while (!server.isClosed()) {
        try {
          Socket socket = server.accept();
          connections.incrementAndGet();
          openConnections.incrementAndGet();
          Thread t = new Thread(() -> echo(socket), "echo-" + connections.get());
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    private void echo(Socket socket) {
      try (socket;
          InputStream in = socket.getInputStream();
          OutputStream out = socket.getOutputStream()) {
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) >= 0) {
          bytesReceived.addAndGet(n);
          out.write(buffer, 0, n);
        }
      } catch (IOException ignored) {
        // reset by the proxy
      } finally {
        openConnections.decrementAndGet();
      }
    }

    @Override
    public void close() {
      try {
        server.close();
      } catch (IOException ignored) {
        // test teardown
      }
    }
  }
}
