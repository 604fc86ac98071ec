package com.shrivenquant.cluster.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * An image's layers unpacked into a directory (by GNU tar, owners and modes kept), and processes
 * started in it the way a container runtime would: that directory as root, the image's user,
 * environment and working directory, /dev and /proc from the host, in a private mount namespace
 * (its mounts vanish with the process; nothing to clean up on the host). Needs root.
 */
final class ImageRootfs implements AutoCloseable {
  private final ImageTarball image;
  private final Path dir;

  private ImageRootfs(ImageTarball image, Path dir) {
    this.image = image;
    this.dir = dir;
  }

  /** Unpacks the layers {@code which} accepts, bottom to top, into a fresh {@code dir}. */
  static ImageRootfs unpack(ImageTarball image, Path dir, Predicate<ImageTarball.Layer> which)
      throws IOException, InterruptedException {
    delete(dir);
    Files.createDirectories(dir);
    for (ImageTarball.Layer layer : image.layers()) {
      if (!which.test(layer)) continue;
      if (layer.entries().keySet().stream().anyMatch(p -> p.contains(".wh.")))
        throw new UnsupportedOperationException(layer.blob() + " has whiteouts: not unpacked here");
      Process tar =
          new ProcessBuilder("tar", "-x", "-z", "--numeric-owner", "-C", dir.toString())
              .redirectErrorStream(true)
              .start();
      try (OutputStream in = tar.getOutputStream()) {
        copyBlob(image.file(), layer.blob(), in);
      }
      String out = new String(tar.getInputStream().readAllBytes());
      if (tar.waitFor() != 0) throw new IOException("tar of " + layer.blob() + " failed: " + out);
    }
    return new ImageRootfs(image, dir);
  }

  Path dir() {
    return dir;
  }

  /**
   * Starts {@code command} (the image's entrypoint if empty) inside the rootfs as the image's user,
   * with the image's Env plus {@code extraEnv}; output merged into {@code log}.
   */
  Process start(List<String> command, Map<String, String> extraEnv, Path log) throws IOException {
    JsonNode c = image.config().path("config");
    List<String> argv = new ArrayList<>();
    if (command.isEmpty()) c.path("Entrypoint").forEach(a -> argv.add(a.asText()));
    else argv.addAll(command);
    String user = c.path("User").asText("0:0");
    String workingDir = c.path("WorkingDir").asText("/");
    if (workingDir.isEmpty()) workingDir = "/";
    String script =
        "root=$1; user=$2; wd=$3; shift 3;"
            + " mount --rbind /dev \"$root/dev\" && mount --rbind /proc \"$root/proc\""
            + " && exec /usr/sbin/chroot --userspec=\"$user\" \"$root\" /usr/bin/env --chdir=\"$wd\" \"$@\"";
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "/usr/bin/unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "/bin/sh",
                "-c",
                script,
                "sh",
                dir.toString(),
                user,
                workingDir));
    cmd.addAll(argv);
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Map<String, String> env = pb.environment();
    env.clear();
    for (JsonNode e : c.path("Env")) {
      String kv = e.asText();
      int eq = kv.indexOf('=');
      if (eq > 0) env.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    env.putAll(extraEnv);
    return pb.start();
  }

  /** Runs a command to its end: exit code and output. */
  Result run(List<String> command, Map<String, String> extraEnv, Path log, long timeoutSeconds)
      throws IOException, InterruptedException {
    Files.deleteIfExists(log);
    Process p = start(command, extraEnv, log);
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new IllegalStateException(command + " did not end within " + timeoutSeconds + " s");
    }
    return new Result(p.exitValue(), Files.readString(log));
  }

  record Result(int exitCode, String output) {}

  @Override
  public void close() throws IOException {
    delete(dir);
  }

  private static void copyBlob(Path tarball, String blob, OutputStream to) throws IOException {
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(tarball)))) {
      for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
        if (ImageTarball.normalize(e.getName()).equals(ImageTarball.normalize(blob))) {
          tar.transferTo(to);
          return;
        }
      }
    }
    throw new IOException(tarball + " has no blob " + blob);
  }

  private static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
