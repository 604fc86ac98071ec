package com.shrivenquant.testkit.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Failsafe boots its fork from a manifest-only jar and puts the packaged module jar, not
 * target/classes, on the class path: the default child class path must still work there.
 */
class ChildJvmIT {

  @Test
  void childStartsWithTheDefaultClasspathUnderFailsafe() {
    assertTrue(
        System.getProperty("java.class.path").contains("shrivenquant-testkit"),
        "failsafe's java.class.path lists the real entries, not only the booter jar");
    ChildJvm child =
        ChildJvm.builder("failsafe-child", ChildJvmTestMain.class).args("sleep").start();
    child.awaitLogLine(Pattern.compile("^ready pid="), Duration.ofSeconds(30));
    child.kill9();
    assertEquals(OptionalInt.of(137), child.exitCode());
  }
}
