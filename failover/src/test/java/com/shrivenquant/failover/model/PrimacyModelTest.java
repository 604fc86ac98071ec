package com.shrivenquant.failover.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The primacy protocol (witness lease, self-fencing, promotion) as a Promela model,
 * failover/model/primacy.pml, checked with SPIN: its timing constants are reference.conf's, the
 * protocol is safe and live, a stall shorter than the pause budget never fails over, and
 * deliberately broken rules are caught (so the check can fail). See failover/model/README.md.
 */
class PrimacyModelTest {
  static final String PREFIX = "shrivenquant.failover.";
  static final Pattern DEFINE = Pattern.compile("(?m)^#define\\s+(\\w+)\\s+(\\d+)\\b");
  static final Pattern EVENT =
      Pattern.compile(
          "^\\s*(Tick:|Send|Apply|Reply|Lose|Crash|Restart|Acquire\\w+|Region\\w+|Partition|Stall\\w*) .*$");
  static final Pattern BOTH_ACCEPTING =
      Pattern.compile(
          "region-1 role 1 e\\d+ age \\d+ acc 1 \\| region-2 role 1 e\\d+ age \\d+ acc 1");

  // ---- constants ---------------------------------------------------------------------------

  /** reference.conf of the module's sources (not a possibly stale copy on the class path). */
  static Config referenceConf() {
    Path conf = moduleDir().resolve("src/main/resources/reference.conf");
    assertTrue(Files.isRegularFile(conf), conf + " missing");
    return ConfigFactory.parseFile(conf.toFile()).resolve();
  }

  static Map<String, Long> modelDefines() throws IOException {
    Map<String, Long> defines = new HashMap<>();
    Matcher m = DEFINE.matcher(Files.readString(model(), StandardCharsets.UTF_8));
    while (m.find()) defines.putIfAbsent(m.group(1), Long.parseLong(m.group(2)));
    return defines;
  }

  @Test
  void modelTimingConstantsAreTheCodes() throws IOException {
    Config c = referenceConf();
    Map<String, Long> d = modelDefines();
    long tick = d.get("TICK_MS");
    assertTrue(tick > 0, "TICK_MS");
    Map<String, String> byName =
        Map.of(
            "lease.ttl", "TTL",
            "lease.renew-interval", "RENEW",
            "lease.fence-margin", "FENCE",
            "watcher.pause-budget", "PAUSE_BUDGET");
    for (Map.Entry<String, String> e : byName.entrySet()) {
      long ms = c.getDuration(PREFIX + e.getKey()).toMillis();
      assertEquals(
          0,
          ms % tick,
          e.getKey() + " = " + ms + " ms is not a whole number of " + tick + " ms ticks");
      assertEquals(
          ms / tick,
          d.get(e.getValue()),
          "primacy.pml #define "
              + e.getValue()
              + " must be "
              + e.getKey()
              + " / TICK_MS = "
              + ms
              + " / "
              + tick);
      System.out.printf(
          "model constant %-13s = %3d ticks = %s%s (%d ms)%n",
          e.getValue(), d.get(e.getValue()), PREFIX, e.getKey(), ms);
    }
    double rho = c.getDouble(PREFIX + "lease.max-clock-drift");
    assertEquals(
        rho * 1000,
        d.get("RHO_PERMILLE"),
        1e-9,
        "primacy.pml #define RHO_PERMILLE must be lease.max-clock-drift * 1000");
    System.out.printf(
        "model constant RHO_PERMILLE  = %3d = %slease.max-clock-drift (%s) * 1000%n",
        d.get("RHO_PERMILLE"), PREFIX, rho);
  }

  @Test
  void configuredTimingsSatisfyTheSafetyInequality() {
    Config c = referenceConf();
    double ttl = c.getDuration(PREFIX + "lease.ttl").toMillis();
    double renew = c.getDuration(PREFIX + "lease.renew-interval").toMillis();
    double fence = c.getDuration(PREFIX + "lease.fence-margin").toMillis();
    double pause = c.getDuration(PREFIX + "watcher.pause-budget").toMillis();
    double rho = c.getDouble(PREFIX + "lease.max-clock-drift");
    assertTrue(rho >= 0 && rho < 1, "max-clock-drift " + rho);
    assertTrue(
        fence * (1 + rho) < ttl * (1 - rho),
        "fence-margin * (1 + rho) = "
            + fence * (1 + rho)
            + " ms must be < ttl * (1 - rho) = "
            + ttl * (1 - rho)
            + " ms");
    assertTrue(
        renew < fence, "renew-interval " + renew + " ms must be < fence-margin " + fence + " ms");
    assertTrue(
        pause <= ttl - renew,
        "pause-budget " + pause + " ms must be <= ttl - renew-interval " + (ttl - renew) + " ms");
    System.out.printf(
        "fence-margin*(1+rho) = %.0f ms < ttl*(1-rho) = %.0f ms (slack %.0f ms)%n",
        fence * (1 + rho), ttl * (1 - rho), ttl * (1 - rho) - fence * (1 + rho));
  }

  // ---- the protocol ------------------------------------------------------------------------

  @Test
  void safetyNeverTwoRegionsAccepting() throws Exception {
    Pan r = verify("safety", List.of(), List.of("-DSAFETY"), List.of("-m2000000"));
    r.assertPasses();
    r.assertChecked("assertion violations\\s+\\+");
    r.assertChecked("invalid end states\\s+\\+");
    assertTrue(r.states > 100_000, "suspiciously small state space: " + r.states);
  }

  @Test
  void livenessDeadActiveRegionIsReplaced() throws Exception {
    Pan r = verify("liveness", List.of("-DLIVE"), List.of(), List.of("-a", "-m2000000"));
    r.assertPasses();
    r.assertChecked("never claim\\s+\\+ \\(live\\)");
    r.assertChecked("acceptance\\s+cycles\\s+\\+");
  }

  @Test
  void stallShorterThanPauseBudgetNeverFailsOver() throws Exception {
    verify("pause-budget", List.of("-DPAUSE"), List.of("-DSAFETY"), List.of("-m2000000"))
        .assertPasses();
  }

  // ---- the check can fail ------------------------------------------------------------------

  @Test
  void brokenFenceFromReplyArrivalIsCaught() throws Exception {
    Pan r =
        verify("broken-fence", List.of("-DBROKEN_FENCE"), List.of("-DSAFETY", "-DBFS"), List.of());
    r.assertFails("assertion violated");
    String violated =
        r.out.lines().filter(l -> l.contains("assertion violated")).findFirst().orElseThrow();
    assertTrue(
        violated.contains("age[0]<=")
            && violated.contains("age[1]<=")
            && !violated.contains("owner["),
        "expected the one-accepting-region assertion: " + violated);
    List<String> trail = r.counterexample();
    assertTrue(
        BOTH_ACCEPTING.matcher(trail.get(trail.size() - 1)).find(),
        "counterexample must end with both regions accepting: " + trail);
  }

  @Test
  void brokenMarginAsLongAsTheTtlIsCaught() throws Exception {
    Pan r =
        verify(
            "broken-margin", List.of("-DBROKEN_MARGIN"), List.of("-DSAFETY", "-DBFS"), List.of());
    r.assertFails("assertion violated");
    List<String> trail = r.counterexample();
    assertTrue(
        BOTH_ACCEPTING.matcher(trail.get(trail.size() - 1)).find(),
        "counterexample must end with both regions accepting: " + trail);
  }

  @Test
  void modelReachesFailoverAndFailback() throws Exception {
    // not vacuous: region-2 takes over and region-1 later accepts again
    verify("reach-failback", List.of("-DREACH_FAILBACK"), List.of("-DSAFETY"), List.of("-m2000000"))
        .assertFails("assertion violated");
  }

  @Test
  void stallLongerThanPauseBudgetCanFailOver() throws Exception {
    long pause = modelDefines().get("PAUSE_BUDGET");
    verify(
            "long-stall",
            List.of("-DPAUSE", "-DSTALL_TICKS=" + (pause + 1)),
            List.of("-DSAFETY"),
            List.of("-m2000000"))
        .assertFails("assertion violated");
  }

  @Test
  void livenessNeedsBoundedLoss() throws Exception {
    verify(
            "unbounded-loss",
            List.of("-DLIVE", "-DUNBOUNDED_LOSS"),
            List.of(),
            List.of("-a", "-m2000000"))
        .assertFails("acceptance cycle");
  }

  // ---- running SPIN ------------------------------------------------------------------------

  /** One verification: spin -a, gcc pan.c, ./pan in a fresh directory; pan's report parsed. */
  static final class Pan {
    final String name;
    final Path dir;
    final List<String> spinFlags;
    final String out;
    final int errors;
    final long states;
    final long transitions;
    final long depth;
    final double seconds;
    final double memoryMb;

    Pan(String name, Path dir, List<String> spinFlags, String out) {
      this.name = name;
      this.dir = dir;
      this.spinFlags = spinFlags;
      this.out = out;
      this.errors = (int) number(out, "errors: (\\d+)");
      this.states = number(out, "(\\d+) states, stored");
      this.transitions = number(out, "(\\d+) transitions \\(");
      this.depth = number(out, "depth reached (\\d+)");
      this.seconds = decimal(out, "pan: elapsed time ([0-9.e+]+) seconds");
      this.memoryMb = decimal(out, "([0-9.]+)\\s+total actual memory usage");
    }

    void assertPasses() {
      assertEquals(0, errors, name + ": SPIN found a violation (trail in " + dir + "):\n" + out);
      assertFalse(out.contains("max search depth too small"), name + ": search truncated:\n" + out);
      assertFalse(out.contains("Search not completed"), name + ": search not completed:\n" + out);
      assertFalse(
          out.contains("MEMLIM") || out.contains("out of memory"),
          name + ": ran out of memory:\n" + out);
      assertTrue(out.contains("Full statespace search"), out);
    }

    void assertChecked(String regex) {
      assertTrue(
          Pattern.compile(regex).matcher(out).find(),
          name + ": pan did not check /" + regex + "/:\n" + out);
    }

    void assertFails(String what) {
      assertTrue(
          errors > 0, name + ": SPIN found no violation, the check would not catch this:\n" + out);
      assertTrue(out.contains(what), name + ": expected '" + what + "':\n" + out);
    }

    /** The counterexample replayed with spin -t, one line per event (repeated ticks folded). */
    List<String> counterexample() {
      List<String> cmd = new ArrayList<>(List.of(tool("SQ_SPIN", "spin"), "-t"));
      cmd.addAll(spinFlags);
      cmd.add("primacy.pml");
      String replay = run(cmd, dir, 60).out;
      List<String> events = new ArrayList<>();
      for (String line : replay.split("\n")) {
        Matcher m = EVENT.matcher(line);
        if (m.matches()) events.add(line.strip());
      }
      assertFalse(events.isEmpty(), "no events in the replay:\n" + replay);
      System.out.println(
          "[" + name + "] counterexample (" + events.size() + " events; 1 tick = TICK_MS):");
      for (int i = 0; i < events.size(); i++) {
        int j = i;
        while (j + 1 < events.size()
            && events.get(i).startsWith("Tick")
            && events.get(j + 1).startsWith("Tick")) j++;
        System.out.println("    " + (j > i ? (j - i + 1) + " x " + events.get(j) : events.get(i)));
        i = j;
      }
      return events;
    }
  }

  static Pan verify(
      String name, List<String> spinFlags, List<String> gccFlags, List<String> panFlags)
      throws IOException {
    Path target = Files.createDirectories(moduleDir().resolve("target"));
    try (var old = Files.newDirectoryStream(target, "primacy-" + name + "-*")) {
      for (Path p : old)
        deleteTree(p); // keep only the newest run of each check (trails, pan output)
    }
    Path dir = Files.createTempDirectory(target, "primacy-" + name + "-");
    Files.copy(model(), dir.resolve("primacy.pml"));
    long t0 = System.nanoTime();
    List<String> spin = new ArrayList<>(List.of(tool("SQ_SPIN", "spin"), "-a"));
    spin.addAll(spinFlags);
    spin.add("primacy.pml");
    Result s = run(spin, dir, 60);
    assertEquals(0, s.exit, "spin -a failed:\n" + s.both());
    List<String> gcc = new ArrayList<>(List.of(tool("SQ_CC", "gcc"), "-O2", "-DMEMLIM=2048"));
    gcc.addAll(gccFlags);
    gcc.addAll(List.of("-o", "pan", "pan.c"));
    Result g = run(gcc, dir, 120);
    assertEquals(0, g.exit, "gcc pan.c failed:\n" + g.both());
    long t1 = System.nanoTime();
    List<String> pan = new ArrayList<>(List.of(dir.resolve("pan").toString()));
    pan.addAll(panFlags);
    Result p = run(pan, dir, 180);
    long t2 = System.nanoTime();
    Pan r = new Pan(name, dir, spinFlags, p.both());
    System.out.printf(
        "[%s] spin -a %s; gcc %s; ./pan %s -> errors: %d, %d states stored, %d transitions, depth %d, "
            + "pan %.2f s, %.0f MB (spin+gcc %.1f s, pan wall %.1f s)%n",
        name,
        String.join(" ", spinFlags),
        String.join(" ", gccFlags),
        String.join(" ", panFlags),
        r.errors,
        r.states,
        r.transitions,
        r.depth,
        r.seconds,
        r.memoryMb,
        (t1 - t0) / 1e9,
        (t2 - t1) / 1e9);
    return r;
  }

  record Result(int exit, String out, String err) {
    String both() {
      return (out + "\n" + err).strip();
    }
  }

  static Result run(List<String> command, Path workingDir, int timeoutSeconds) {
    try {
      Path out = workingDir.resolve("stdout.txt");
      Path err = workingDir.resolve("stderr.txt");
      Process p =
          new ProcessBuilder(command)
              .directory(workingDir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new IllegalStateException("timed out after " + timeoutSeconds + " s: " + command);
      }
      return new Result(
          p.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** spin (Debian package spin) and gcc: the override variable, else the one on PATH. */
  static String tool(String envOverride, String name) {
    String override = System.getenv(envOverride);
    if (override != null && !override.isBlank()) return override;
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(d, name);
      if (Files.isExecutable(candidate)) return candidate.toString();
    }
    throw new IllegalStateException(
        name
            + " not found on PATH (nor "
            + envOverride
            + "): .ci/run installs spin when missing, see failover/model/README.md");
  }

  static Path moduleDir() {
    Path here = Path.of("").toAbsolutePath();
    return Files.isDirectory(here.resolve("model")) ? here : here.resolve("failover");
  }

  static Path model() {
    return moduleDir().resolve("model/primacy.pml");
  }

  static void deleteTree(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList())
        Files.deleteIfExists(p);
    }
  }

  static long number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  static double decimal(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }
}
