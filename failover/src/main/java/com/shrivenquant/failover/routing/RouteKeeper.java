package com.shrivenquant.failover.routing;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps clients routed to this region while it is active. A promotion routes once; if that failed
 * (the DNS server down or slow, a timeout on a JVM that just restarted) clients would stay with the
 * old region for good, so the region's coordinator asks on every tick while active and this retries
 * until the route holds, on its own thread so the coordinator never waits for DNS. Safe to repeat:
 * the router refuses to overwrite a newer epoch's route, and a route already in place costs one
 * read.
 */
public final class RouteKeeper implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RouteKeeper.class);

  private final ClientRouter router;
  private final String region;
  private final String orderApiUrl;
  private final long retryNanos;
  private final ExecutorService thread =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "route-keeper");
            t.setDaemon(true);
            return t;
          });
  private final AtomicBoolean inFlight = new AtomicBoolean();
  private volatile long routedEpoch = -1;
  private volatile long nextAttemptNanos = System.nanoTime();

  public RouteKeeper(
      ClientRouter router, String region, String orderApiUrl, Duration retryInterval) {
    this.router = router;
    this.region = region;
    this.orderApiUrl = orderApiUrl;
    this.retryNanos = retryInterval.toNanos();
  }

  /** This region is active in {@code epoch}: route clients here unless that already held. */
  public void ensure(long epoch) {
    if (routedEpoch == epoch || System.nanoTime() - nextAttemptNanos < 0) return;
    if (!inFlight.compareAndSet(false, true)) return;
    thread.execute(
        () -> {
          try {
            String done = router.route(region, epoch, orderApiUrl);
            routedEpoch = epoch;
            log.info("Clients routed to {} in epoch {}: {}", region, epoch, done);
          } catch (Exception e) {
            nextAttemptNanos = System.nanoTime() + retryNanos;
            log.warn(
                "Routing clients to {} in epoch {} failed, retrying: {}",
                region,
                epoch,
                e.toString());
          } finally {
            inFlight.set(false);
          }
        });
  }

  /** The epoch clients were last routed in by this keeper, or -1. */
  public long routedEpoch() {
    return routedEpoch;
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
