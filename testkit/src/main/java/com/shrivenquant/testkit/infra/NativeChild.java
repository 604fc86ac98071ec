package com.shrivenquant.testkit.infra;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A native program (not a JVM) run as a child process that never outlives this JVM, even when this
 * JVM is SIGKILLed.
 *
 * <p>{@link ParentWatchdog} does this for child JVMs; a native program cannot run it, so a small
 * bash wrapper does the same: it starts the program in the background and reads its own stdin,
 * whose write end only this JVM holds. The kernel closes that pipe however this JVM dies; on EOF
 * the wrapper SIGKILLs the program. When the program exits by itself the wrapper exits too (it
 * checks once a second). SIGTERM to the wrapper is passed on to the program.
 *
 * <p>Output (stdout and stderr, merged) goes to a log file, appended, and is kept in memory for
 * error messages ({@link ChildOutput}).
 */
final class NativeChild {

  /** $1.. = the program and its arguments. */
  private static final String WRAPPER =
      """
      "$@" </dev/null 2>&1 &
      child=$!
      trap 'kill -TERM "$child" 2>/dev/null' TERM INT
      while kill -0 "$child" 2>/dev/null; do
        read -r -t 1 _
        rc=$?
        # 0: a line (ignored), >128: timeout or a trapped signal; else EOF: this JVM is gone
        if [ "$rc" -ne 0 ] && [ "$rc" -le 128 ]; then
          kill -KILL "$child" 2>/dev/null
          wait "$child" 2>/dev/null
          # nobody is left to delete the program's work directory
          [ -n "${ORPHAN_CLEANUP:-}" ] && rm -rf -- "$ORPHAN_CLEANUP"
          exit 137
        fi
      done
      wait "$child"
      """;

  private final String name;
  private final Process wrapper;
  private final ChildOutput output;
  private final Path logFile;

  private NativeChild(String name, Process wrapper, ChildOutput output, Path logFile) {
    this.name = name;
    this.wrapper = wrapper;
    this.output = output;
    this.logFile = logFile;
  }

  /**
   * Starts {@code command} (absolute program path first) under the wrapper; does not wait.
   *
   * @param orphanCleanup deleted by the wrapper if this JVM dies first (null: nothing)
   */
  static NativeChild start(String name, List<String> command, Path logFile, Path orphanCleanup) {
    List<String> argv = new ArrayList<>(List.of("bash", "-c", WRAPPER, name + "-wrapper"));
    argv.addAll(command);
    try {
      BufferedWriter log = ChildOutput.openLog(logFile);
      ChildOutput.writeQuietly(log, "# " + String.join(" ", command));
      ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
      if (orphanCleanup != null) {
        pb.environment().put("ORPHAN_CLEANUP", orphanCleanup.toAbsolutePath().toString());
      }
      Process wrapper = pb.start();
      ChildOutput output = new ChildOutput();
      output.startPump(wrapper.getInputStream(), log, name, false);
      return new NativeChild(name, wrapper, output, logFile);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + name + ": " + command, e);
    }
  }

  /** The program's own process (the wrapper's child), once it has been started. */
  Optional<ProcessHandle> program() {
    return wrapper.toHandle().children().findFirst();
  }

  /** The program's pid; waits briefly for the wrapper to have started it. */
  long pid() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      Optional<ProcessHandle> p = program();
      if (p.isPresent()) {
        return p.get().pid();
      }
      if (!wrapper.isAlive()) {
        break;
      }
      Pause.sleep(10);
    }
    throw new IllegalStateException(
        name + " is not running; " + logFile + " ends with:\n" + tail());
  }

  /** True while the wrapper runs, which is while the program does (give or take a second). */
  boolean isAlive() {
    return wrapper.isAlive();
  }

  /** SIGKILL to the program (a crash); the wrapper follows within a second. */
  void kill9() {
    program().ifPresent(ProcessHandle::destroyForcibly);
    awaitWrapperExit(Duration.ofSeconds(5));
  }

  /** SIGTERM to the program, then SIGKILL after {@code grace}. */
  void stop(Duration grace) {
    Optional<ProcessHandle> p = program();
    p.ifPresent(ProcessHandle::destroy);
    try {
      if (p.isPresent() && !p.get().onExit().toCompletableFuture().isDone()) {
        p.get().onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (Exception e) {
      p.ifPresent(ProcessHandle::destroyForcibly);
    }
    try {
      wrapper.getOutputStream().close(); // EOF: the wrapper kills whatever is left and exits
    } catch (IOException ignored) {
      // it is exiting anyway
    }
    awaitWrapperExit(Duration.ofSeconds(5));
  }

  private void awaitWrapperExit(Duration timeout) {
    try {
      if (!wrapper.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        wrapper.descendants().forEach(ProcessHandle::destroyForcibly);
        wrapper.destroyForcibly().waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  Path logFile() {
    return logFile;
  }

  List<String> outputLines() {
    return output.snapshot();
  }

  /** The last lines of the output, for error messages. */
  String tail() {
    List<String> lines = output.snapshot();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
  }
}
