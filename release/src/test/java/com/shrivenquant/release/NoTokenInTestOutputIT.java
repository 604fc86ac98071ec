package com.shrivenquant.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.testkit.TestTokens;
import com.shrivenquant.testkit.TokenLeakScanner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * No operator API test token appears in any output of the test run: every module's
 * surefire/failsafe output and reports, node and broker logs under target/. This module is the
 * reactor's last, so in {@code mvn verify} every other module's tests have run (and written their
 * output files) before this one. TokenLeakScannerTest shows the scan finds a planted token.
 */
class NoTokenInTestOutputIT {
  private static final Set<String> SKIPPED_DIRECTORIES =
      Set.of(
          "classes",
          "test-classes",
          "lib",
          "maven-status",
          "maven-archiver",
          "generated-sources",
          "generated-test-sources",
          "k8s-checks");

  @Test
  void noTestTokenAppearsInAnyOutputOfTheTestRun() throws IOException {
    List<Path> targets;
    try (Stream<Path> modules = Files.list(CommandRunner.repoDir())) {
      targets = modules.map(m -> m.resolve("target")).filter(Files::isDirectory).sorted().toList();
    }
    TokenLeakScanner.Result result =
        new TokenLeakScanner(TestTokens.all()).scan(targets, NoTokenInTestOutputIT::isOutput);
    System.out.printf(
        "scanned %d output files under %s for %d test tokens: %d leaks%n",
        result.filesScanned(), targets, TestTokens.all().size(), result.leaks().size());
    assertEquals(
        List.of(), result.leaks(), "test tokens in the test run's output (file, token name)");

    // The scan covered the calls made with the tokens: their audit lines are in what was scanned.
    Path operatorIt =
        CommandRunner.repoDir()
            .resolve(
                "system-tests/target/failsafe-reports/com.shrivenquant.cluster.ops.OperatorRoutesIT-output.txt");
    Assumptions.assumeTrue(
        Files.exists(operatorIt),
        "OperatorRoutesIT did not run in this build: its output is not here to scan");
    assertTrue(
        Files.readString(operatorIt).contains("by admin-1 from 127.0.0.1"),
        "OperatorRoutesIT's output holds the audit lines of its calls with the test tokens");
  }

  static boolean isOutput(Path file) {
    for (Path part : file) {
      if (SKIPPED_DIRECTORIES.contains(part.toString())) return false;
    }
    String name = file.getFileName().toString();
    return name.endsWith(".txt")
        || name.endsWith(".log")
        || name.endsWith(".xml")
        || name.endsWith(".out")
        || name.endsWith(".json")
        || name.endsWith(".dump")
        || name.endsWith(".dumpstream");
  }
}
