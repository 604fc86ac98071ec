package com.shrivenquant.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * bin/release without a cluster: the pre-deployment checklist it refuses on, and the command
 * sequence its dry run prints (standby region first, rollout status and readiness per region,
 * production's canary), with the overlays it renders; and shellcheck on the script.
 */
class ReleaseScriptIT {
  static final Path REPO = CommandRunner.repoDir();
  static final String IMAGE =
      "registry.example/shrivenquant-node@sha256:" + "0123456789abcdef".repeat(4);
  static final String DEPLOYER = "deployer@example.org";

  Path state;
  String id;

  @BeforeEach
  void freshState(TestInfo test) throws Exception {
    state = CommandRunner.workDir("state-" + test.getTestMethod().orElseThrow().getName());
    try (Stream<Path> old = Files.walk(state)) {
      old.sorted(Comparator.reverseOrder())
          .filter(p -> !p.equals(state))
          .forEach(p -> p.toFile().delete());
    }
    CommandRunner.Outcome identity = release("identity");
    assertEquals(0, identity.exit(), identity.output());
    id = identity.output().strip();
  }

  @Test
  void shellcheckFindsNothingInTheScriptAndCatchesAPlantedMistake() throws Exception {
    String shellcheck = onPath("shellcheck");
    CommandRunner.Outcome clean =
        CommandRunner.run(
            List.of(shellcheck, "bin/release"), REPO, Map.of(), Duration.ofMinutes(1));
    assertEquals(0, clean.exit(), clean.output());

    Path planted = state.resolve("release-with-a-mistake");
    Files.writeString(
        planted,
        Files.readString(REPO.resolve("bin/release"), StandardCharsets.UTF_8)
            + "\n[ $ENV_NAME = production ] && echo unquoted\n",
        StandardCharsets.UTF_8);
    CommandRunner.Outcome caught =
        CommandRunner.run(
            List.of(shellcheck, planted.toString()), REPO, Map.of(), Duration.ofMinutes(1));
    assertNotEquals(0, caught.exit(), caught.output());
    assertTrue(caught.output().contains("SC2086"), caught.output());
  }

  @Test
  void theChecklistRefusesACommitWithNothingRecordedForIt() throws Exception {
    // A stage recorded for another commit does not count.
    record("test", "identity=0000000000000000000000000000000000000000", "tests=1");
    CommandRunner.Outcome run = release("check", "--dry-run", "--env", "staging");
    assertEquals(1, run.exit(), run.output());
    for (String expected :
        List.of(
            "[MISSING]  all tests passing: no passing 'bin/release test' recorded for " + id,
            "[MISSING]  security scan: no passing 'bin/release scan' recorded",
            "[MISSING]  change approval: --change-id is required",
            "[MISSING]  performance benchmarks: no 'bin/release bench' results",
            "[MISSING]  image: --image REPO@sha256:<digest>",
            "REFUSED: 5 checklist item(s) not met for staging")) {
      assertTrue(
          run.output().contains(expected), "expected '" + expected + "' in:\n" + run.output());
    }
  }

  @Test
  void benchmarkFiguresOutsideTheTargetsRefuseUnlessTheApprovalWaivesThem() throws Exception {
    recordPassingStages();
    Map<String, String> figures = figuresAtTheirBounds();
    String missed = figures.keySet().iterator().next();
    figures.put(missed, Double.toString(Double.parseDouble(figures.get(missed)) + 1));
    writeBenchResults(figures);

    CommandRunner.Outcome refused =
        release("check", "--dry-run", "--env", "staging", "--change-id", "CHG-9", "--image", IMAGE);
    assertEquals(1, refused.exit(), refused.output());
    assertTrue(
        refused.output().contains("MISSED  " + missed + " = " + figures.get(missed)),
        refused.output());

    Path approval = approval("CHG-9", "approver@example.org", "waive=" + missed);
    CommandRunner.Outcome waived =
        release(
            "check",
            "--dry-run",
            "--env",
            "staging",
            "--change-id",
            "CHG-9",
            "--image",
            IMAGE,
            "--approval",
            approval.toString());
    assertEquals(0, waived.exit(), waived.output());
    assertTrue(waived.output().contains("waived  " + missed), waived.output());

    figures.remove(missed);
    writeBenchResults(figures);
    CommandRunner.Outcome unmeasured =
        release("check", "--dry-run", "--env", "staging", "--change-id", "CHG-9", "--image", IMAGE);
    assertEquals(1, unmeasured.exit(), unmeasured.output());
    assertTrue(
        unmeasured.output().contains("MISSED  " + missed + " = unmeasured"), unmeasured.output());
  }

  @Test
  void theBenchStageTakesTheOrderAckFiguresFromBenchSyncInProductionsConfiguration()
      throws Exception {
    CommandRunner.Outcome run = release("bench", "--dry-run");
    assertEquals(0, run.exit(), run.output());
    String rate = null;
    for (String line : Files.readAllLines(REPO.resolve("release/bench-targets.properties"))) {
      if (line.startsWith("orders.rate=")) rate = line.substring("orders.rate=".length()).strip();
    }
    assertEquals("1000", rate, "production's rate");
    assertTrue(
        run.output()
            .contains(
                "/bin/shrivenquant bench sync --rate "
                    + rate
                    + " --rounds 1 --warmup 20 --seconds 20 --json"),
        run.output());
    assertFalse(run.output().contains("bench orders"), run.output());
  }

  @Test
  void aStagingDryRunDeploysTheStandbyRegionFirstAndWaitsForEachRollout() throws Exception {
    recordAPassingCommit();
    CommandRunner.Outcome run =
        release(
            "deploy", "--dry-run", "--env", "staging", "--change-id", "CHG-7", "--image", IMAGE);
    assertEquals(0, run.exit(), run.output());
    List<String> lines = run.output().lines().toList();

    int standbyApply = indexOf(lines, 0, "+ kubectl --context staging-region-2 apply -k ");
    int activeApply = indexOf(lines, 0, "+ kubectl --context staging-region-1 apply -k ");
    assertTrue(standbyApply < activeApply, "region-2 (standby) before region-1:\n" + run.output());
    for (String region : List.of("region-1", "region-2")) {
      String k = "+ kubectl --context staging-" + region + " -n shrivenquant-" + region + " ";
      int recorded =
          indexOf(
              lines,
              0,
              k + "get deployment shrivenquant -o 'jsonpath={.metadata.annotations.deployment");
      int apply = indexOf(lines, recorded, "+ kubectl --context staging-" + region + " apply -k ");
      int status =
          indexOf(lines, apply, k + "rollout status deployment/shrivenquant --timeout=10m");
      int ready =
          indexOf(
              lines,
              status,
              k
                  + "wait --for=condition=Ready pod -l app.kubernetes.io/name=shrivenquant,pod-template-hash=");
      int smoke = indexOf(lines, ready, k + "port-forward svc/shrivenquant-management :8558");
      indexOf(lines, smoke, "/health/ready");
      indexOf(lines, smoke, "/failover/status");

      String rendered =
          Files.readString(state.resolve(id + "/overlays/staging/" + region + "/rendered.yaml"));
      assertTrue(rendered.contains("image: " + IMAGE), rendered);
      assertTrue(rendered.contains("namespace: shrivenquant-" + region), rendered);
      assertTrue(
          rendered.contains("kubernetes.io/change-cause: CHG-7 " + id.substring(0, 12)), rendered);
    }
    assertFalse(run.output().contains("rollout pause"), "no canary in staging:\n" + run.output());
    assertTrue(run.output().contains("dry run: nothing was changed"), run.output());
    assertFalse(
        Files.exists(state.resolve(id + "/deploy-staging.ok")), "a dry run records no deploy");

    CommandRunner.Outcome swapped =
        release(
            "deploy",
            "--dry-run",
            "--env",
            "staging",
            "--change-id",
            "CHG-7",
            "--image",
            IMAGE,
            "--standby",
            "region-1");
    assertEquals(0, swapped.exit(), swapped.output());
    List<String> after = swapped.output().lines().toList();
    assertTrue(
        indexOf(after, 0, "+ kubectl --context staging-region-1 apply -k ")
            < indexOf(after, 0, "+ kubectl --context staging-region-2 apply -k "),
        swapped.output());
  }

  @Test
  void productionRefusesWithoutStagingApprovalAndBackup() throws Exception {
    recordAPassingCommit();
    CommandRunner.Outcome bare =
        release(
            "deploy", "--dry-run", "--env", "production", "--change-id", "CHG-8", "--image", IMAGE);
    assertEquals(1, bare.exit(), bare.output());
    for (String expected :
        List.of(
            "[MISSING]  change approval: production needs --approval FILE for CHG-8",
            "[MISSING]  staging first: no staging deploy recorded for " + id,
            "[MISSING]  backup: production needs --backup-hook CMD")) {
      assertTrue(
          bare.output().contains(expected), "expected '" + expected + "' in:\n" + bare.output());
    }
    assertFalse(bare.output().contains("apply -k"), bare.output());

    record(
        "deploy-staging",
        "identity=" + id,
        "image=registry.example/other@sha256:" + "f".repeat(64));
    CommandRunner.Outcome selfApproved =
        release(
            "deploy",
            "--dry-run",
            "--env",
            "production",
            "--change-id",
            "CHG-8",
            "--image",
            IMAGE,
            "--approval",
            approval("CHG-8", DEPLOYER).toString(),
            "--backup-hook",
            "true");
    assertEquals(1, selfApproved.exit(), selfApproved.output());
    assertTrue(
        selfApproved.output().contains("approved-by must name someone other than the deployer"),
        selfApproved.output());
    assertTrue(
        selfApproved
            .output()
            .contains("[REFUSED]  staging first: staging ran registry.example/other@"),
        selfApproved.output());
  }

  @Test
  void aProductionDryRunRollsTheActiveRegionThroughOneCanaryPod() throws Exception {
    recordAPassingCommit();
    record("deploy-staging", "identity=" + id, "image=" + IMAGE);
    CommandRunner.Outcome run =
        release(
            "deploy",
            "--dry-run",
            "--env",
            "production",
            "--change-id",
            "CHG-8",
            "--image",
            IMAGE,
            "--approval",
            approval("CHG-8", "approver@example.org").toString(),
            "--backup-hook",
            "pg_dump --format=custom --file=journal-$SQ_RELEASE_REGION.dump \"$JOURNAL_URL\"",
            "--prometheus-url",
            "http://prometheus.example:9090");
    assertEquals(0, run.exit(), run.output());
    List<String> lines = run.output().lines().toList();

    String standby = "+ kubectl --context production-region-2 -n shrivenquant-region-2 ";
    int standbyApply = indexOf(lines, 0, "+ kubectl --context production-region-2 apply -k ");
    int standbyDone =
        indexOf(
            lines, standbyApply, standby + "rollout status deployment/shrivenquant --timeout=10m");
    indexOf(
        lines,
        standbyDone,
        "query=ALERTS{alertstate=\"firing\",alertname=~\"ShrivenQuant.*\",namespace=~\"shrivenquant-region-2|\"}");

    String active = "+ kubectl --context production-region-1 -n shrivenquant-region-1 ";
    int backup = indexOf(lines, standbyDone, "SQ_RELEASE_REGION=region-1");
    int pause = indexOf(lines, backup, active + "rollout pause deployment/shrivenquant");
    int apply = indexOf(lines, pause, "+ kubectl --context production-region-1 apply -k ");
    int hold =
        indexOf(
            lines,
            apply,
            active
                + "patch deployment shrivenquant --type merge -p '{\"spec\":{\"minReadySeconds\":86400}}'");
    int resume = indexOf(lines, hold, active + "rollout resume deployment/shrivenquant");
    int canaryReady =
        indexOf(
            lines,
            resume,
            active
                + "wait --for=condition=Ready pod -l app.kubernetes.io/name=shrivenquant,pod-template-hash=");
    int canarySmoke = indexOf(lines, canaryReady, active + "port-forward pod/");
    int lift =
        indexOf(
            lines,
            canarySmoke,
            active
                + "patch deployment shrivenquant --type merge -p '{\"spec\":{\"minReadySeconds\":0}}'");
    int full =
        indexOf(lines, lift, active + "rollout status deployment/shrivenquant --timeout=10m");
    indexOf(lines, full, active + "port-forward svc/shrivenquant-management :8558");
    assertEquals(
        1,
        lines.stream().filter(l -> l.contains("rollout pause")).count(),
        "only the active region has a canary");
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private CommandRunner.Outcome release(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(REPO.resolve("bin/release").toString()));
    cmd.addAll(List.of(args));
    if (!args[0].equals("identity")) cmd.addAll(List.of("--state-dir", state.toString()));
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SQ_RELEASE_DEPLOYER", DEPLOYER);
    // kubectl renders the overlays in a dry run; .ci/run puts one with kustomize v5 on PATH.
    String kubectl = System.getenv("SQ_KUBECTL");
    if (kubectl != null && !kubectl.isBlank()) {
      env.put("PATH", Path.of(kubectl).getParent() + File.pathSeparator + System.getenv("PATH"));
    }
    return CommandRunner.run(cmd, REPO, env, Duration.ofMinutes(2));
  }

  private void record(String stage, String... lines) throws IOException {
    Path file = state.resolve(id).resolve(stage + ".ok");
    Files.createDirectories(file.getParent());
    Files.writeString(
        file,
        String.join("\n", lines) + "\nfinished=2026-11-24T00:00:00Z\n",
        StandardCharsets.UTF_8);
  }

  private void recordPassingStages() throws IOException {
    record("test", "identity=" + id, "tests=3");
    record("scan", "identity=" + id, "modules=9", "dependencies=3");
  }

  /** Tests and scan passed, every benchmark figure within its target. */
  private void recordAPassingCommit() throws IOException {
    recordPassingStages();
    writeBenchResults(figuresAtTheirBounds());
  }

  /** Each figure release/bench-targets.properties bounds, measured exactly at its bound. */
  private static Map<String, String> figuresAtTheirBounds() throws IOException {
    Map<String, String> figures = new LinkedHashMap<>();
    for (String line : Files.readAllLines(REPO.resolve("release/bench-targets.properties"))) {
      if (line.startsWith("#") || !line.contains("=")) continue;
      String key = line.substring(0, line.indexOf('='));
      if (key.endsWith(".max") || key.endsWith(".min")) {
        figures.put(
            key.substring(0, key.lastIndexOf('.')), line.substring(line.indexOf('=') + 1).strip());
      }
    }
    assertFalse(figures.isEmpty(), "no targets in release/bench-targets.properties");
    return figures;
  }

  private void writeBenchResults(Map<String, String> figures) throws IOException {
    StringBuilder b = new StringBuilder();
    figures.forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
    Files.createDirectories(state.resolve(id));
    Files.writeString(state.resolve(id + "/bench.results"), b.toString(), StandardCharsets.UTF_8);
  }

  private Path approval(String changeId, String approvedBy, String... more) throws IOException {
    Path file = state.resolve("approval-" + changeId + ".txt");
    List<String> lines =
        new ArrayList<>(
            List.of("change-id=" + changeId, "commit=" + id, "approved-by=" + approvedBy));
    lines.addAll(List.of(more));
    Files.write(file, lines, StandardCharsets.UTF_8);
    return file;
  }

  /** The first line at or after {@code from} containing {@code text}; fails when there is none. */
  private static int indexOf(List<String> lines, int from, String text) {
    for (int i = Math.max(from, 0); i < lines.size(); i++) {
      if (lines.get(i).contains(text)) return i;
    }
    throw new AssertionError(
        "no line containing '"
            + text
            + "' after line "
            + from
            + " in:\n"
            + String.join("\n", lines));
  }

  private static String onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, tool))) return Path.of(dir, tool).toString();
    }
    throw new IllegalStateException(
        tool + " not found on PATH: .ci/run installs it (Debian package " + tool + ")");
  }
}
