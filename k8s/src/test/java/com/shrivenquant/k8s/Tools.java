package com.shrivenquant.k8s;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The external tools the checks drive: kubectl (kustomize) and promtool, and the repo's paths. */
final class Tools {
  private Tools() {}

  record Result(int exit, String out, String err) {
    String both() {
      return (out + "\n" + err).strip();
    }
  }

  static Path k8sDir() {
    return Path.of(System.getProperty("sq.k8s.dir", ".")).toAbsolutePath().normalize();
  }

  static Path repoDir() {
    return Path.of(System.getProperty("sq.repo.dir", "..")).toAbsolutePath().normalize();
  }

  static Path workDir(String name) throws IOException {
    Path dir =
        Path.of(System.getProperty("sq.work.dir", "target/k8s-checks"))
            .resolve(name)
            .toAbsolutePath();
    Files.createDirectories(dir);
    return dir;
  }

  /** kubectl with kustomize v5 (kubectl >= 1.27): SQ_KUBECTL, else the one on PATH. */
  static String kubectl() {
    return executable("SQ_KUBECTL", "kubectl");
  }

  /** promtool (Debian package prometheus): SQ_PROMTOOL, else the one on PATH. */
  static String promtool() {
    return executable("SQ_PROMTOOL", "promtool");
  }

  private static String executable(String envOverride, String name) {
    String override = System.getenv(envOverride);
    if (override != null && !override.isBlank()) return override;
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) return candidate.toString();
    }
    throw new IllegalStateException(
        name
            + " not found on PATH (nor "
            + envOverride
            + "): .ci/run installs it when missing, see k8s/README.md");
  }

  static Result run(List<String> command, Path workingDir) {
    try {
      Path out = Files.createTempFile("sq-tool", ".out");
      Path err = Files.createTempFile("sq-tool", ".err");
      try {
        Process p =
            new ProcessBuilder(new ArrayList<>(command))
                .directory(workingDir.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IllegalStateException("timed out: " + command);
        }
        return new Result(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
