package com.shrivenquant.testkit;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * The tests' one way to wait for a condition: poll until it holds or the timeout passes, then fail
 * naming what was awaited and the last value seen. In place of fixed sleeps (which either waste
 * time or, on a slow machine, assert too early) and hand-written deadline loops.
 */
public final class Eventually {
  private static final long FIRST_PAUSE_MS = 5;
  private static final long LONGEST_PAUSE_MS = 100;

  /** A value read from the system under test; may throw (a database still starting). */
  @FunctionalInterface
  public interface Probe<T> {
    T read() throws Exception;
  }

  private Eventually() {}

  /** Polls until {@code condition} reads true. */
  public static void await(String what, Duration timeout, Probe<Boolean> condition)
      throws InterruptedException {
    await(what, timeout, condition, Boolean.TRUE::equals);
  }

  /**
   * Polls {@code probe} until {@code done} accepts its value, and returns that value. A probe that
   * throws counts as not done yet; the last exception is named if the time runs out.
   */
  public static <T> T await(
      String what, Duration timeout, Probe<T> probe, Predicate<? super T> done)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = FIRST_PAUSE_MS;
    Object last = "nothing read yet";
    while (true) {
      try {
        T value = probe.read();
        if (done.test(value)) return value;
        last = value;
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        AssertionError failure =
            new AssertionError("not " + what + " within " + timeout + "; last read: " + last);
        if (last instanceof Exception e) failure.initCause(e);
        throw failure;
      }
      Thread.sleep(pause);
      pause = Math.min(LONGEST_PAUSE_MS, pause * 2);
    }
  }
}
