package com.shrivenquant.cluster.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * max-failures invalid tokens from one source within the window block it for block-for; others are
 * unaffected.
 */
class FailureThrottleTest {
  final AtomicLong now = new AtomicLong(1_000_000_000L);
  final FailureThrottle throttle =
      new FailureThrottle(
          new FailureThrottle.Settings(3, Duration.ofSeconds(10), Duration.ofSeconds(30)),
          now::get);

  @Test
  void theThirdFailureWithinTheWindowBlocksThatSourceForBlockFor() {
    throttle.failed("10.0.0.1");
    advance(Duration.ofSeconds(4));
    throttle.failed("10.0.0.1");
    assertEquals(Optional.empty(), throttle.blockedFor("10.0.0.1"), "two failures: still allowed");
    advance(Duration.ofSeconds(4));
    throttle.failed("10.0.0.1");
    assertEquals(Optional.of(Duration.ofSeconds(30)), throttle.blockedFor("10.0.0.1"));
    assertEquals(
        Optional.empty(), throttle.blockedFor("10.0.0.2"), "another source is not affected");

    advance(Duration.ofSeconds(29));
    assertEquals(Optional.of(Duration.ofSeconds(1)), throttle.blockedFor("10.0.0.1"));
    advance(Duration.ofSeconds(1));
    assertEquals(Optional.empty(), throttle.blockedFor("10.0.0.1"), "unblocked after block-for");
    throttle.failed("10.0.0.1");
    assertEquals(Optional.empty(), throttle.blockedFor("10.0.0.1"), "the count started again");
  }

  @Test
  void failuresFurtherApartThanTheWindowNeverBlock() {
    for (int i = 0; i < 20; i++) {
      throttle.failed("10.0.0.1");
      advance(Duration.ofSeconds(6)); // at most two within any 10 s
      assertEquals(Optional.empty(), throttle.blockedFor("10.0.0.1"), "failure " + i);
    }
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }
}
