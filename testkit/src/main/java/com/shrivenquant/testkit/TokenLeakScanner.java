package com.shrivenquant.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Looks for secrets in files (test output, node logs): which file holds which secret, named, so
 * that a report never repeats the secret itself.
 */
public final class TokenLeakScanner {
  /** {@code file} contains the secret called {@code secretName}. */
  public record Leak(Path file, String secretName) {}

  /**
   * @param filesScanned how many files were read: a scan of nothing proves nothing
   */
  public record Result(List<Leak> leaks, int filesScanned) {}

  private final Map<String, String> secretsByName;

  public TokenLeakScanner(Map<String, String> secretsByName) {
    this.secretsByName = Map.copyOf(secretsByName);
  }

  /**
   * Every regular file under {@code roots} (recursively, missing roots skipped) that {@code
   * include} accepts.
   */
  public Result scan(Collection<Path> roots, Predicate<Path> include) throws IOException {
    List<Leak> leaks = new ArrayList<>();
    int files = 0;
    for (Path root : roots) {
      if (!Files.isDirectory(root)) continue;
      List<Path> candidates;
      try (Stream<Path> walk = Files.walk(root)) {
        candidates = walk.filter(Files::isRegularFile).filter(include).sorted().toList();
      }
      for (Path file : candidates) {
        files++;
        // Byte for byte: the secrets are ASCII, and a binary or mis-encoded file still matches.
        String content = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        secretsByName.forEach(
            (name, secret) -> {
              if (content.contains(secret)) leaks.add(new Leak(file, name));
            });
      }
    }
    return new Result(leaks, files);
  }
}
