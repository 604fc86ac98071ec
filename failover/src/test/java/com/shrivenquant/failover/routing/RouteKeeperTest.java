package com.shrivenquant.failover.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RouteKeeperTest {

  /** Fails its first {@code failures} calls, then routes; records every call's epoch. */
  private static final class FlakyRouter implements ClientRouter {
    final List<Long> calls = new CopyOnWriteArrayList<>();
    final AtomicInteger concurrent = new AtomicInteger();
    volatile int maxConcurrent;
    private final int failures;

    FlakyRouter(int failures) {
      this.failures = failures;
    }

    @Override
    public String route(String region, long epoch, String url) throws Exception {
      maxConcurrent = Math.max(maxConcurrent, concurrent.incrementAndGet());
      try {
        Thread.sleep(20);
        calls.add(epoch);
        if (calls.size() <= failures) throw new IOException("DNS server did not answer");
        return "routed";
      } finally {
        concurrent.decrementAndGet();
      }
    }
  }

  @Test
  void aFailedRouteIsRetriedUntilItHoldsThenNotAgain() throws Exception {
    FlakyRouter router = new FlakyRouter(2);
    try (RouteKeeper keeper =
        new RouteKeeper(router, "region-1", "http://127.0.1.1:8080", Duration.ofMillis(50))) {
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (keeper.routedEpoch() != 7 && System.nanoTime() < deadline) {
        keeper.ensure(7); // the coordinator's tick
        Thread.sleep(5);
      }
      assertEquals(7, keeper.routedEpoch());
      for (int i = 0; i < 20; i++) {
        keeper.ensure(7);
        Thread.sleep(5);
      }
      assertEquals(List.of(7L, 7L, 7L), router.calls, "two failures, one success, then nothing");
      assertEquals(1, router.maxConcurrent, "one attempt at a time");
    }
  }

  @Test
  void aNewEpochIsRoutedAgain() throws Exception {
    FlakyRouter router = new FlakyRouter(0);
    try (RouteKeeper keeper =
        new RouteKeeper(router, "region-1", "http://127.0.1.1:8080", Duration.ofMillis(50))) {
      keeper.ensure(3);
      awaitRouted(keeper, 3);
      keeper.ensure(5);
      awaitRouted(keeper, 5);
      assertEquals(List.of(3L, 5L), router.calls);
    }
  }

  @Test
  void noRetryBeforeTheInterval() throws Exception {
    FlakyRouter router = new FlakyRouter(Integer.MAX_VALUE);
    try (RouteKeeper keeper =
        new RouteKeeper(router, "region-1", "http://127.0.1.1:8080", Duration.ofSeconds(30))) {
      for (int i = 0; i < 20; i++) {
        keeper.ensure(4);
        Thread.sleep(10);
      }
      assertEquals(1, router.calls.size(), "one attempt, the next only after the interval");
      assertTrue(keeper.routedEpoch() < 0);
    }
  }

  private static void awaitRouted(RouteKeeper keeper, long epoch) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (keeper.routedEpoch() != epoch && System.nanoTime() < deadline) Thread.sleep(5);
    assertEquals(epoch, keeper.routedEpoch());
  }
}
