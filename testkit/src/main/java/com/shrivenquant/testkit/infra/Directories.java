package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removal of the work and data directories the local servers leave behind. */
final class Directories {
  private Directories() {}

  /**
   * Deletes {@code dir} and everything below it, best effort: a missing directory is fine, and what
   * cannot be deleted stays (a temporary directory left behind is harmless; a cleanup that throws
   * would hide the error that led to it).
   */
  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              path -> {
                try {
                  Files.deleteIfExists(path);
                } catch (IOException ignored) {
                  // best effort, as above
                }
              });
    } catch (IOException | UncheckedIOException ignored) {
      // best effort, as above
    }
  }
}
