package com.shrivenquant.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventuallyTest {
  @Test
  void returnsTheFirstValueThatIsDone() throws Exception {
    AtomicInteger reads = new AtomicInteger();
    int value =
        Eventually.await("three reads", Duration.ofSeconds(5), reads::incrementAndGet, v -> v >= 3);
    assertEquals(3, value);
  }

  @Test
  void failsNamingWhatAndTheLastValue() {
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> Eventually.await("seven", Duration.ofMillis(50), () -> 6, v -> v == 7));
    assertTrue(e.getMessage().contains("not seven within PT0.05S; last read: 6"), e.getMessage());
  }

  @Test
  void aThrowingProbeIsNotDoneYetAndItsExceptionIsTheCause() throws Exception {
    AtomicInteger reads = new AtomicInteger();
    Eventually.await(
        "up",
        Duration.ofSeconds(5),
        () -> {
          if (reads.incrementAndGet() < 3) throw new IllegalStateException("starting");
          return true;
        });
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () ->
                Eventually.await(
                    "up",
                    Duration.ofMillis(30),
                    () -> {
                      throw new IllegalStateException("never");
                    }));
    assertEquals("never", e.getCause().getMessage());
  }
}
