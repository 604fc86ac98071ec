package com.shrivenquant.testkit.infra;

import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts a {@link ChildJvm}'s process: its {@code java} command line, environment and working
 * directory, and the log file it is pumped into, opened with a header line naming the command.
 */
final class ChildJvmLauncher {

  private ChildJvmLauncher() {}

  /** This JVM's {@code java}, the options, then the main class behind the watchdog if asked. */
  static List<String> command(
      List<String> jvmOptions,
      Map<String, String> systemProperties,
      String classpath,
      boolean exitWithParent,
      String mainClass,
      List<String> args) {
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

  /** Starts {@code command}; its output is appended to {@code logFile}. */
  static ChildJvm start(
      String name,
      List<String> command,
      Path workingDirectory,
      Map<String, String> env,
      Path logFile,
      boolean echo) {
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
    BufferedWriter log = null;
    try {
      log = ChildOutput.openLog(logFile);
      Process process = pb.start();
      ChildOutput.writeQuietly(
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
      ChildJvmReaper.register(process);
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
