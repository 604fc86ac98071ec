package com.shrivenquant.testkit.infra;

import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
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

  private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9._-]+");
  private static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(10);

  private final String name;
  private final Process process;
  private final Path logFile;
  private final ChildOutput output = new ChildOutput();
  private final Thread pump;

  // started by ChildJvmLauncher, which opened the log
  ChildJvm(String name, Process process, Path logFile, BufferedWriter log, boolean echo) {
    this.name = name;
    this.process = process;
    this.logFile = logFile;
    this.pump = output.startPump(process.getInputStream(), log, name, echo);
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
      Pause.sleep(100);
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

  private static final class Http {
    static final HttpClient CLIENT =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
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
      return ChildJvmLauncher.command(
          jvmOptions, systemProperties, classpath, exitWithParent, mainClass, args);
    }

    public ChildJvm start() {
      return ChildJvmLauncher.start(
          name,
          command(),
          workingDirectory,
          env,
          logDirectory.resolve(name + ".log").toAbsolutePath(),
          echo);
    }
  }
}
