package com.shrivenquant.testkit.infra;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A Java main class run as a separate OS process: for tests about process death (kill -9 of a node)
 * and for servers that cannot share our classpath (the Kafka broker).
 *
 * <p>Output (stdout and stderr, merged) is appended to {@code target/child-logs/<name>.log} and, if
 * asked, echoed to our stdout prefixed with {@code [name]}. Children never outlive this JVM: a
 * shutdown hook stops the ones still running, and {@link ParentWatchdog} makes a child exit when
 * this JVM dies without running hooks (SIGKILL).
 */
public final class ChildJvm implements AutoCloseable {

  /**
   * Set to {@code true} (e.g. {@code mvn -Dshrivenquant.childjvm.echo=true}) to see all child
   * output.
   */
  public static final String ECHO_PROPERTY = "shrivenquant.childjvm.echo";

  private static final Set<ChildJvm> RUNNING = ConcurrentHashMap.newKeySet();
  private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9._-]+");
  private static final int MAX_BUFFERED_LINES = 100_000;
  private static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(10);

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ChildJvm::stopAllOnExit, "child-jvm-reaper"));
  }

  private final String name;
  private final Process process;
  private final Path logFile;
  private final Output output = new Output();
  private final Thread pump;

  private ChildJvm(String name, Process process, Path logFile, BufferedWriter log, boolean echo) {
    this.name = name;
    this.process = process;
    this.logFile = logFile;
    this.pump = new Thread(() -> pump(log, echo), "child-jvm-output-" + name);
    this.pump.setDaemon(true);
    this.pump.start();
    process.onExit().thenRun(() -> RUNNING.remove(this));
  }

  public static Builder builder(String name, String mainClass) {
    return new Builder(name, mainClass);
  }

  public static Builder builder(String name, Class<?> mainClass) {
    return new Builder(name, mainClass.getName());
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Empty while running. 137 after {@link #kill9()}, 143 after a SIGTERM the JVM obeyed. */
  public OptionalInt exitCode() {
    return process.isAlive() ? OptionalInt.empty() : OptionalInt.of(process.exitValue());
  }

  public Path logFile() {
    return logFile;
  }

  /** Output lines so far (the oldest are dropped past 100,000 lines; the log file has all). */
  public List<String> outputLines() {
    return output.snapshot();
  }

  /**
   * Waits for an output line in which {@code pattern} is found (searching from the child's first
   * line) and returns it. Fails early if the child exits first.
   */
  public String awaitLogLine(Pattern pattern, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      String line = output.await(pattern, deadline);
      if (line != null) {
        return line;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(
          "interrupted while waiting for /" + pattern + "/ from " + name, e);
    }
    String why =
        output.isClosed()
            ? "exited with code " + exitCodeAfterOutputEnded()
            : "printed no such line within " + timeout;
    throw new IllegalStateException(
        name + " " + why + " while we waited for /" + pattern + "/" + tailForError());
  }

  /**
   * Polls {@code uri} until it answers 200 (readiness endpoints). Fails early if the child exits.
   */
  public void awaitHttpOk(URI uri, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String lastResult = "no attempt";
    while (true) {
      if (!isAlive()) {
        throw new IllegalStateException(
            name
                + " exited with code "
                + exitCodeText()
                + " while we waited for 200 from "
                + uri
                + tailForError());
      }
      try {
        HttpRequest request =
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).GET().build();
        int status = Http.CLIENT.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status == 200) {
          return;
        }
        lastResult = "HTTP " + status;
      } catch (IOException e) {
        lastResult = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + uri, e);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            name
                + ": no 200 from "
                + uri
                + " within "
                + timeout
                + " (last: "
                + lastResult
                + ")"
                + tailForError());
      }
      sleep(Duration.ofMillis(100));
    }
  }

  /** Waits for the child to exit on its own; returns its exit code. */
  public int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(name + " still running after " + timeout + tailForError());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + name + " to exit", e);
    }
    awaitOutputDrained();
    return process.exitValue();
  }

  /**
   * SIGKILL (what {@code destroyForcibly} sends on Linux): no shutdown hooks, no goodbye, like a
   * crash. Returns once the process is gone. Processes the child started are left alone, as a real
   * crash would leave them.
   */
  public void kill9() {
    // Via the handle: Process.destroy* would also close our end of the pipes and lose the tail.
    process.toHandle().destroyForcibly();
    awaitDeath(Duration.ofSeconds(30));
  }

  /**
   * SIGTERM (the child's shutdown hooks run), then SIGKILL if it is still alive after {@code
   * grace}.
   */
  public void stop(Duration grace) {
    if (!process.isAlive()) {
      return;
    }
    process.toHandle().destroy(); // keeps the pipes open, so output of shutdown hooks is captured
    try {
      if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        awaitOutputDrained();
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    kill9();
  }

  /** {@link #stop(Duration)} with a 10 s grace. */
  @Override
  public void close() {
    stop(DEFAULT_STOP_GRACE);
  }

  @Override
  public String toString() {
    return "ChildJvm["
        + name
        + ", pid "
        + process.pid()
        + (isAlive() ? "" : ", exit " + exitCodeText())
        + "]";
  }

  private void awaitDeath(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(
            name + " (pid " + pid() + ") survived SIGKILL for " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + name + " to die", e);
    }
    awaitOutputDrained();
  }

  /**
   * So the log file is complete when a stop returns; a grandchild holding the pipe may delay EOF.
   */
  private void awaitOutputDrained() {
    try {
      pump.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The output ends a moment before the exit status is reaped. */
  private String exitCodeAfterOutputEnded() {
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return exitCodeText();
  }

  private String exitCodeText() {
    return exitCode().isPresent() ? Integer.toString(exitCode().getAsInt()) : "?";
  }

  private String tailForError() {
    List<String> lines = output.snapshot();
    List<String> tail = lines.subList(Math.max(0, lines.size() - 30), lines.size());
    return "\n--- last "
        + tail.size()
        + " lines of "
        + logFile
        + " ---\n"
        + String.join("\n", tail);
  }

  private void pump(BufferedWriter log, boolean echo) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), Charset.defaultCharset()))) {
      String line;
      while ((line = in.readLine()) != null) {
        output.add(line);
        writeQuietly(log, line);
        if (echo) {
          System.out.println("[" + name + "] " + line);
        }
      }
    } catch (IOException ignored) {
      // the stream closes when the process dies; nothing more to read
    } finally {
      try {
        log.close();
      } catch (IOException ignored) {
        // the log is best effort; the in-memory lines still serve awaitLogLine
      }
      output.close();
    }
  }

  private static void writeQuietly(BufferedWriter log, String line) {
    try {
      log.write(line);
      log.newLine();
      log.flush(); // readable mid-run and complete after a crash
    } catch (IOException ignored) {
      // a full disk must not block the child on a full pipe
    }
  }

  private static void stopAllOnExit() {
    List<ChildJvm> children = new ArrayList<>(RUNNING);
    children.forEach(c -> c.process.toHandle().destroy());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    for (ChildJvm child : children) {
      try {
        child.process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        break;
      }
    }
    for (ChildJvm child : children) {
      if (child.process.isAlive()) {
        child.process.descendants().forEach(ProcessHandle::destroyForcibly);
        child.process.toHandle().destroyForcibly();
      }
    }
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static final class Http {
    static final HttpClient CLIENT =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  }

  /** In-memory copy of the output, so waiting for a line never re-reads the file. */
  private static final class Output {
    private final List<String> lines = new ArrayList<>();
    private long dropped;
    private boolean closed;

    synchronized void add(String line) {
      lines.add(line);
      if (lines.size() > MAX_BUFFERED_LINES) {
        int drop = MAX_BUFFERED_LINES / 2;
        lines.subList(0, drop).clear();
        dropped += drop;
      }
      notifyAll();
    }

    synchronized void close() {
      closed = true;
      notifyAll();
    }

    synchronized boolean isClosed() {
      return closed;
    }

    synchronized List<String> snapshot() {
      return List.copyOf(lines);
    }

    /** The first matching line, or null on timeout or end of output. */
    synchronized String await(Pattern pattern, long deadlineNanos) throws InterruptedException {
      long next = 0; // absolute line number, so dropping old lines does not rescan
      while (true) {
        for (long i = Math.max(next, dropped); i < dropped + lines.size(); i++) {
          String line = lines.get((int) (i - dropped));
          if (pattern.matcher(line).find()) {
            return line;
          }
        }
        next = dropped + lines.size();
        long remaining = deadlineNanos - System.nanoTime();
        if (closed || remaining <= 0) {
          return null;
        }
        TimeUnit.NANOSECONDS.timedWait(this, remaining);
      }
    }
  }

  public static final class Builder {
    private final String name;
    private final String mainClass;
    private String classpath = System.getProperty("java.class.path");
    private final List<String> args = new ArrayList<>();
    private final List<String> jvmOptions = new ArrayList<>();
    private final Map<String, String> systemProperties = new LinkedHashMap<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private Path logDirectory = Path.of("target", "child-logs");
    private Path workingDirectory;
    private boolean echo = Boolean.getBoolean(ECHO_PROPERTY);
    private boolean exitWithParent = true;

    private Builder(String name, String mainClass) {
      if (!SAFE_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "name must match " + SAFE_NAME + " (it names the log file): " + name);
      }
      this.name = name;
      this.mainClass = Objects.requireNonNull(mainClass);
    }

    /**
     * Default: this JVM's {@code java.class.path}. Under surefire/failsafe that is the full test
     * classpath (surefire sets it even when it boots from a manifest-only jar).
     */
    public Builder classpath(String classpath) {
      this.classpath = Objects.requireNonNull(classpath);
      return this;
    }

    public Builder classpath(List<Path> entries) {
      return classpath(
          String.join(File.pathSeparator, entries.stream().map(Path::toString).toList()));
    }

    public Builder args(String... args) {
      this.args.addAll(List.of(args));
      return this;
    }

    public Builder args(List<String> args) {
      this.args.addAll(args);
      return this;
    }

    /** E.g. {@code -Xmx256m}. Nothing of this JVM's own options is inherited. */
    public Builder jvmOptions(String... options) {
      this.jvmOptions.addAll(List.of(options));
      return this;
    }

    public Builder systemProperty(String key, String value) {
      systemProperties.put(key, value);
      return this;
    }

    public Builder systemProperties(Map<String, String> properties) {
      systemProperties.putAll(properties);
      return this;
    }

    /** Added to (or, with a null value, removed from) the environment inherited from this JVM. */
    public Builder env(String key, String value) {
      env.put(key, value);
      return this;
    }

    public Builder logDirectory(Path logDirectory) {
      this.logDirectory = Objects.requireNonNull(logDirectory);
      return this;
    }

    public Builder workingDirectory(Path workingDirectory) {
      this.workingDirectory = workingDirectory;
      return this;
    }

    /**
     * Echo output to our stdout as {@code [name] line}. Default: system property {@value
     * #ECHO_PROPERTY}.
     */
    public Builder echoToStdout(boolean echo) {
      this.echo = echo;
      return this;
    }

    /**
     * Default true: run the main class behind {@link ParentWatchdog} so the child exits if this JVM
     * is SIGKILLed. Turn off only for a main class that reads stdin.
     */
    public Builder exitWithParent(boolean exitWithParent) {
      this.exitWithParent = exitWithParent;
      return this;
    }

    public List<String> command() {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvmOptions);
      systemProperties.forEach((k, v) -> command.add("-D" + k + "=" + v));
      command.add("-cp");
      if (exitWithParent) {
        command.add(classpath + File.pathSeparator + watchdogLocation());
        command.add(ParentWatchdog.class.getName());
      } else {
        command.add(classpath);
      }
      command.add(mainClass);
      command.addAll(args);
      return command;
    }

    public ChildJvm start() {
      List<String> command = command();
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      if (workingDirectory != null) {
        pb.directory(workingDirectory.toFile());
      }
      env.forEach(
          (k, v) -> {
            if (v == null) {
              pb.environment().remove(k);
            } else {
              pb.environment().put(k, v);
            }
          });
      Path logFile = logDirectory.resolve(name + ".log").toAbsolutePath();
      BufferedWriter log = null;
      try {
        Files.createDirectories(logFile.getParent());
        // Appended, not replaced: a restarted node must not erase the log of the crash before.
        log =
            Files.newBufferedWriter(
                logFile,
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        Process process = pb.start();
        writeQuietly(
            log,
            "=== "
                + Instant.now()
                + " started "
                + name
                + " (pid "
                + process.pid()
                + "): "
                + describe(command));
        ChildJvm child = new ChildJvm(name, process, logFile, log, echo);
        RUNNING.add(child);
        if (!process.isAlive()) {
          RUNNING.remove(child); // it may have exited before the registration above
        }
        return child;
      } catch (IOException e) {
        if (log != null) {
          try {
            log.close();
          } catch (IOException ignored) {
            // already failing
          }
        }
        throw new UncheckedIOException(
            "could not start child JVM " + name + ": " + describe(command), e);
      }
    }

    /** The class path is usually too long to be useful in a log line. */
    private static String describe(List<String> command) {
      List<String> shown = new ArrayList<>(command);
      int cp = shown.indexOf("-cp");
      if (cp >= 0 && cp + 1 < shown.size()) {
        shown.set(cp + 1, "<" + shown.get(cp + 1).split(File.pathSeparator).length + " entries>");
      }
      return String.join(" ", shown);
    }

    private static String watchdogLocation() {
      try {
        return Path.of(
                ParentWatchdog.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
      } catch (URISyntaxException | RuntimeException e) {
        throw new IllegalStateException("cannot locate the testkit classes for ParentWatchdog", e);
      }
    }
  }
}
