package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Three real {@code etcd} processes (Debian's {@code etcd-server}, {@value #ETCD}) forming one
 * cluster on 127.0.0.1: members {@code etcd-0..2}, client and peer ports free-chosen (never the
 * 2379/2380 a system etcd service may hold), data in a temporary directory, output appended to
 * {@code <logDirectory>/etcd-<i>.log}.
 *
 * <pre>{@code
 * try (EtcdCluster etcd = EtcdCluster.start()) {
 *   etcd.kill9(etcd.leader());   // a real SIGKILL of the leader's process
 *   etcd.restart(0);             // same ports and data directory, waits until healthy
 * }
 * }</pre>
 *
 * <p>Timing: {@code --heartbeat-interval=25 --election-timeout=250} (defaults 100/1000). A follower
 * notices a dead leader after 250-500 ms and is elected within a round trip. A holder's renewals
 * then stop for at most about the election, one renewal interval (200 ms) and one call timeout (500
 * ms, a keepalive forwarded to the dead leader): ~1.2 s, inside the 1,400 ms fence margin. With
 * 50/500 that bound was ~1.7 s, and a CI run measured a 1,457 ms gap (EtcdPrimacyLeaseIT); with the
 * defaults it can reach 2 s. etcd's minimum lease TTL follows (1.5 x election timeout, rounded up:
 * 1 s).
 *
 * <p>Each member is a {@link NativeChild}: it never outlives this JVM, even one killed with
 * SIGKILL.
 */
public final class EtcdCluster implements AutoCloseable {
  public static final String ETCD = "/usr/bin/etcd";
  public static final int MEMBERS = 3;

  private static final Pattern MEMBER_ID = Pattern.compile("\"member_id\"\\s*:\\s*\"(\\d+)\"");
  private static final Pattern LEADER = Pattern.compile("\"leader\"\\s*:\\s*\"(\\d+)\"");

  private final Path directory;
  private final Path logDirectory;
  private final Duration startupTimeout;
  private final int[] clientPorts;
  private final int[] peerPorts;
  private final NativeChild[] members = new NativeChild[MEMBERS];
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofMillis(500))
          .build();
  private boolean closed;

  private EtcdCluster(Builder b, Path directory, List<Integer> ports) {
    this.directory = directory;
    this.logDirectory = b.logDirectory.toAbsolutePath();
    this.startupTimeout = b.startupTimeout;
    this.clientPorts = IntStream.range(0, MEMBERS).map(ports::get).toArray();
    this.peerPorts = IntStream.range(0, MEMBERS).map(i -> ports.get(MEMBERS + i)).toArray();
  }

  /** Three members on free ports, temporary data deleted on close; logs to target/etcd-logs. */
  public static EtcdCluster start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  public List<String> clientUrls() {
    return IntStream.range(0, MEMBERS).mapToObj(this::clientUrl).toList();
  }

  public String clientUrl(int member) {
    return "http://127.0.0.1:" + clientPort(member);
  }

  public int clientPort(int member) {
    return clientPorts[check(member)];
  }

  public int peerPort(int member) {
    return peerPorts[check(member)];
  }

  /** The etcd process's own pid (not its wrapper's). */
  public synchronized long pid(int member) {
    return members[check(member)].pid();
  }

  public synchronized boolean isRunning(int member) {
    NativeChild m = members[check(member)];
    return m != null && m.isAlive();
  }

  public Path logFile(int member) {
    return logDirectory.resolve("etcd-" + check(member) + ".log");
  }

  /** {@code kill -9} of the member's process, like a crash; returns once it is gone. */
  public synchronized void kill9(int member) {
    if (isRunning(member)) members[member].kill9();
  }

  /** SIGSTOP: the member goes silent (no refusals, nothing answered), like a partition. */
  public synchronized void pause(int member) {
    signal(pid(member), "STOP");
  }

  /** SIGCONT after {@link #pause}. */
  public synchronized void resume(int member) {
    signal(pid(member), "CONT");
  }

  /**
   * Starts a stopped or killed member again on its ports and data directory and waits until it
   * reports healthy (which needs a quorum: at least one other member running).
   */
  public synchronized void restart(int member) {
    if (isRunning(member)) kill9(member);
    launch(member);
    awaitHealthy(List.of(member));
  }

  /** The index of the member the running members agree is the leader. */
  public int leader() {
    List<String> ids = new ArrayList<>();
    String leaderId = null;
    for (int i = 0; i < MEMBERS; i++) {
      ids.add(null);
      if (!isRunning(i)) continue;
      try {
        String status = post(i, "/v3/maintenance/status", "{}", Duration.ofSeconds(1));
        ids.set(i, group(MEMBER_ID, status));
        String l = group(LEADER, status);
        if (l != null && !l.equals("0")) leaderId = l;
      } catch (IOException e) {
        // a member that does not answer is not the leader we can name
      }
    }
    int index = leaderId == null ? -1 : ids.indexOf(leaderId);
    if (index < 0) throw new IllegalStateException("no leader known; ids " + ids + tails());
    return index;
  }

  /** SIGKILL to every member, then deletes the data. */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    for (int i = 0; i < MEMBERS; i++) kill9(i);
    Directories.deleteRecursively(directory);
  }

  // ---------------------------------------------------------------------------------------------

  private void startAll() {
    try {
      Files.createDirectories(logDirectory);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (int i = 0; i < MEMBERS; i++) launch(i);
    awaitHealthy(List.of(0, 1, 2));
  }

  private void launch(int i) {
    String cluster =
        IntStream.range(0, MEMBERS)
            .mapToObj(m -> "etcd-" + m + "=http://127.0.0.1:" + peerPorts[m])
            .collect(Collectors.joining(","));
    List<String> cmd =
        List.of(
            ETCD,
            "--name=etcd-" + i,
            "--data-dir=" + directory.resolve("etcd-" + i),
            "--listen-client-urls=" + clientUrl(i),
            "--advertise-client-urls=" + clientUrl(i),
            "--listen-peer-urls=http://127.0.0.1:" + peerPorts[i],
            "--initial-advertise-peer-urls=http://127.0.0.1:" + peerPorts[i],
            "--initial-cluster=" + cluster,
            "--initial-cluster-state=new",
            "--initial-cluster-token=sq-" + directory.getFileName(),
            "--heartbeat-interval=25",
            "--election-timeout=250",
            "--log-level=warn",
            "--logger=zap");
    members[i] = NativeChild.start("etcd-" + i, cmd, logFile(i), null);
  }

  private void awaitHealthy(List<Integer> which) {
    long deadline = System.nanoTime() + startupTimeout.toNanos();
    for (int i : which) {
      String last = "not asked";
      while (true) {
        if (!members[i].isAlive())
          throw new IllegalStateException("etcd-" + i + " exited" + tails());
        try {
          last = get(i, "/health", Duration.ofSeconds(1));
          if (last.contains("\"health\":\"true\"")) break;
        } catch (IOException e) {
          last = e.toString();
        }
        if (System.nanoTime() > deadline)
          throw new IllegalStateException(
              "etcd-"
                  + i
                  + " not healthy within "
                  + startupTimeout
                  + " (last: "
                  + last
                  + ")"
                  + tails());
        Pause.sleep(50);
      }
    }
  }

  private String get(int member, String path, Duration timeout) throws IOException {
    return send(HttpRequest.newBuilder(URI.create(clientUrl(member) + path)).GET(), timeout);
  }

  private String post(int member, String path, String body, Duration timeout) throws IOException {
    return send(
        HttpRequest.newBuilder(URI.create(clientUrl(member) + path))
            .POST(HttpRequest.BodyPublishers.ofString(body)),
        timeout);
  }

  private String send(HttpRequest.Builder request, Duration timeout) throws IOException {
    try {
      return http.send(request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private String tails() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < MEMBERS; i++) {
      sb.append("\n--- tail of ").append(logFile(i)).append(":\n");
      try {
        List<String> lines = Files.readAllLines(logFile(i));
        lines
            .subList(Math.max(0, lines.size() - 15), lines.size())
            .forEach(l -> sb.append(l).append('\n'));
      } catch (IOException e) {
        sb.append("(unreadable: ").append(e).append(")\n");
      }
    }
    return sb.toString();
  }

  private static void signal(long pid, String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0)
        throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String group(Pattern p, String s) {
    Matcher m = p.matcher(s);
    return m.find() ? m.group(1) : null;
  }

  private static int check(int member) {
    if (member < 0 || member >= MEMBERS) throw new IllegalArgumentException("member " + member);
    return member;
  }

  public static final class Builder {
    private Path logDirectory = Path.of("target", "etcd-logs");
    private Duration startupTimeout = Duration.ofSeconds(30);

    private Builder() {}

    /** Where {@code etcd-<i>.log} go (appended across restarts). Default target/etcd-logs. */
    public Builder logDirectory(Path logDirectory) {
      this.logDirectory = Objects.requireNonNull(logDirectory);
      return this;
    }

    /** Until all three (or a restarted one) report healthy. Default 30 s. */
    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = Objects.requireNonNull(startupTimeout);
      return this;
    }

    /** Starts the three members and waits until each reports healthy. */
    public EtcdCluster start() {
      if (!Files.isExecutable(Path.of(ETCD)))
        throw new IllegalStateException(ETCD + " is missing: run bin/test-setup (etcd-server)");
      EtcdCluster c;
      try {
        c =
            new EtcdCluster(
                this, Files.createTempDirectory("etcd-cluster-"), FreePorts.freePorts(2 * MEMBERS));
      } catch (IOException e) {
        throw new UncheckedIOException("could not create a temporary directory", e);
      }
      try {
        synchronized (c) {
          c.startAll();
        }
        return c;
      } catch (RuntimeException e) {
        c.close();
        throw e;
      }
    }
  }
}
