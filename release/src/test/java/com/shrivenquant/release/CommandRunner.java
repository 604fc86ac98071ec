package com.shrivenquant.release;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a real external command (mvn, bin/release, shellcheck) and keeps its combined output. */
final class CommandRunner {
  private CommandRunner() {}

  /** Exit code and stdout + stderr interleaved as the command wrote them. */
  record Outcome(int exit, String output) {}

  static Path repoDir() {
    return Path.of(System.getProperty("sq.repo.dir", "..")).toAbsolutePath().normalize();
  }

  static Path workDir(String name) throws IOException {
    Path dir =
        Path.of(System.getProperty("sq.work.dir", "target/release-checks"))
            .resolve(name)
            .toAbsolutePath()
            .normalize();
    Files.createDirectories(dir);
    return dir;
  }

  static Outcome run(
      List<String> command, Path workingDir, Map<String, String> env, Duration timeout)
      throws IOException, InterruptedException {
    Path log = Files.createTempFile("sq-release", ".log");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(workingDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      pb.environment().putAll(env);
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new IllegalStateException(
            "timed out after "
                + timeout
                + ": "
                + command
                + "\n"
                + Files.readString(log, StandardCharsets.UTF_8));
      }
      return new Outcome(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
