package com.shrivenquant.testkit.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ChildJvmTest {

  private static final Duration START = Duration.ofSeconds(30);
  private static final Pattern READY = Pattern.compile("^ready pid=(\\d+)");

  @Test
  void runsMainWithPropertiesEnvAndOutputCapture() throws Exception {
    try (ChildJvm child =
        ChildJvm.builder("sleeper", ChildJvmTestMain.class)
            .args("sleep")
            .systemProperty("greeting", "hello")
            .env("CHILD_JVM_TEST", "set")
            .jvmOptions("-Xmx64m")
            .start()) {
      String ready = child.awaitLogLine(READY, START);
      assertEquals("ready pid=" + child.pid(), ready);
      assertTrue(child.outputLines().contains("greeting=hello env=set"));
      assertTrue(child.outputLines().contains("to stderr"), "stderr is captured too");
      assertTrue(
          Files.readString(child.logFile()).contains("greeting=hello env=set"),
          "log file has the output");
      assertTrue(child.logFile().endsWith(Path.of("target", "child-logs", "sleeper.log")));
    }
  }

  @Test
  void kill9KillsWithoutShutdownHooks() {
    ChildJvm child = ChildJvm.builder("killed", ChildJvmTestMain.class).args("sleep").start();
    child.awaitLogLine(READY, START);
    long pid = child.pid();

    child.kill9();

    assertFalse(child.isAlive());
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process is gone");
    assertEquals(OptionalInt.of(137), child.exitCode(), "128 + SIGKILL");
    assertFalse(child.outputLines().contains("shutdown hook ran"));
  }

  @Test
  void stopSendsSigtermSoShutdownHooksRun() {
    ChildJvm child = ChildJvm.builder("stopped", ChildJvmTestMain.class).args("sleep").start();
    child.awaitLogLine(READY, START);

    child.stop(Duration.ofSeconds(10));

    assertEquals(OptionalInt.of(143), child.exitCode(), "128 + SIGTERM");
    assertTrue(child.outputLines().contains("shutdown hook ran"));
  }

  @Test
  void awaitLogLineFailsFastWhenTheChildExits() {
    ChildJvm child = ChildJvm.builder("exits", ChildJvmTestMain.class).args("exit", "3").start();
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> child.awaitLogLine(Pattern.compile("never printed"), Duration.ofMinutes(1)));
    assertTrue(e.getMessage().contains("exited with code 3"), e.getMessage());
    assertTrue(e.getMessage().contains("exiting with 3"), "the error shows the output tail");
    assertEquals(3, child.awaitExit(Duration.ofSeconds(10)));
  }

  @Test
  void awaitHttpOkPollsUntilReady() {
    int port = FreePorts.freePort();
    try (ChildJvm child =
        ChildJvm.builder("http", ChildJvmTestMain.class)
            .args("http", Integer.toString(port))
            .start()) {
      child.awaitHttpOk(URI.create("http://127.0.0.1:" + port + "/ready"), START);
    }
  }

  @Test
  void childExitsWhenItsParentIsKilled() {
    Path logs = Path.of("target", "child-logs").toAbsolutePath();
    ChildJvm parent =
        ChildJvm.builder("parent", ChildJvmTestMain.class)
            .args("parent-of", logs.toString())
            .start();
    Matcher m =
        Pattern.compile("^grandchild pid=(\\d+)")
            .matcher(parent.awaitLogLine(Pattern.compile("^grandchild pid="), START));
    assertTrue(m.find());
    ProcessHandle grandchild = ProcessHandle.of(Long.parseLong(m.group(1))).orElseThrow();

    parent.kill9(); // no shutdown hook runs in the parent: only the watchdog can save us

    assertTrue(
        grandchild
            .onExit()
            .orTimeout(20, java.util.concurrent.TimeUnit.SECONDS)
            .handle((p, e) -> e == null)
            .join(),
        "grandchild exited after its parent was SIGKILLed");
  }

  @Test
  void defaultClasspathIsThisJvmsClasspath() {
    String cp = System.getProperty("java.class.path");
    System.out.println(
        "java.class.path in this test JVM: "
            + (cp.length() > 300
                ? cp.substring(0, 300)
                    + "... ("
                    + cp.split(java.io.File.pathSeparator).length
                    + " entries)"
                : cp));
    assertTrue(
        ChildJvm.builder("cp", ChildJvmTestMain.class).command().stream()
            .anyMatch(a -> a.startsWith(cp)));
  }
}
