package com.shrivenquant.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scanner finds a planted token (so the scan of the test run's output can fail) and names it
 * without repeating it.
 */
class TokenLeakScannerTest {
  @TempDir Path dir;

  @Test
  void findsEachPlantedTokenByNameAndSkipsWhatIsExcluded() throws Exception {
    Path reports = Files.createDirectories(dir.resolve("module/target/failsafe-reports"));
    Path logs = Files.createDirectories(dir.resolve("module/target/child-logs"));
    Files.writeString(
        reports.resolve("SomeIT-output.txt"),
        "12:00:01 INFO audit - operator call GET /failover/status by viewer-1\n");
    Files.writeString(
        logs.resolve("node-1.log"),
        "12:00:02 DEBUG http - Authorization: Bearer " + TestTokens.ADMIN + "\n");
    Files.write(
        logs.resolve("binary.bin"),
        ("\u0000\u0001" + TestTokens.UNKNOWN + "\u0000")
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    Files.writeString(reports.resolve("Excluded.class"), TestTokens.VIEWER);

    TokenLeakScanner.Result r =
        new TokenLeakScanner(TestTokens.all())
            .scan(
                List.of(dir.resolve("module/target"), dir.resolve("missing")),
                f -> !f.toString().endsWith(".class"));

    assertEquals(3, r.filesScanned());
    assertEquals(
        List.of(
            new TokenLeakScanner.Leak(logs.resolve("binary.bin"), "UNKNOWN"),
            new TokenLeakScanner.Leak(logs.resolve("node-1.log"), "ADMIN")),
        r.leaks());
    assertFalse(
        r.leaks().toString().contains(TestTokens.ADMIN),
        "a report names the token, never repeats it");
  }

  @Test
  void cleanOutputHasNoLeaks() throws Exception {
    Files.writeString(
        dir.resolve("clean.txt"),
        "nothing secret here, only " + "sqtest_viewer_".length() + " characters of a prefix");
    TokenLeakScanner.Result r =
        new TokenLeakScanner(TestTokens.all()).scan(List.of(dir), f -> true);
    assertEquals(1, r.filesScanned());
    assertEquals(List.of(), r.leaks());
  }
}
