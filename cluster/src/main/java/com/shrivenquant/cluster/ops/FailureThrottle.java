package com.shrivenquant.cluster.ops;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Slows down guessing: a source (the TCP peer's address) that presents {@code max-failures} invalid
 * tokens within {@code window} is refused, whatever it presents, for {@code block-for}. Only
 * presented-but-unknown tokens count: a missing token guesses nothing, and a success does not reset
 * the count (a holder of one token must not be able to keep guessing others).
 */
public final class FailureThrottle {
  /** Sources remembered at most; beyond it, those with nothing recent are forgotten first. */
  private static final int MAX_SOURCES = 10_000;

  public record Settings(int maxFailures, Duration window, Duration blockFor) {
    public Settings {
      if (maxFailures < 1) throw new IllegalArgumentException("throttle.max-failures must be >= 1");
    }
  }

  private static final class Source {
    final ArrayDeque<Long> failures = new ArrayDeque<>();
    boolean blocked;
    long blockedUntil;

    // Nano times are compared by difference only: they may be negative and wrap.
    boolean blockedAt(long now) {
      return blocked && blockedUntil - now > 0;
    }
  }

  private final Settings settings;
  private final LongSupplier nanoClock;
  private final Map<String, Source> sources = new ConcurrentHashMap<>();

  public FailureThrottle(Settings settings) {
    this(settings, System::nanoTime);
  }

  FailureThrottle(Settings settings, LongSupplier nanoClock) {
    this.settings = settings;
    this.nanoClock = nanoClock;
  }

  /** How long {@code source} is still refused, or empty if it is not. */
  public Optional<Duration> blockedFor(String source) {
    Source s = sources.get(source);
    if (s == null) return Optional.empty();
    synchronized (s) {
      long now = nanoClock.getAsLong();
      return s.blockedAt(now)
          ? Optional.of(Duration.ofNanos(s.blockedUntil - now))
          : Optional.empty();
    }
  }

  /** Counts an invalid token from {@code source}; blocks it once the window holds max-failures. */
  public void failed(String source) {
    long now = nanoClock.getAsLong();
    if (sources.size() >= MAX_SOURCES) forgetQuietSources(now);
    Source s = sources.computeIfAbsent(source, k -> new Source());
    synchronized (s) {
      s.failures.addLast(now);
      while (!s.failures.isEmpty() && now - s.failures.peekFirst() > settings.window().toNanos()) {
        s.failures.removeFirst();
      }
      if (s.failures.size() >= settings.maxFailures()) {
        s.blocked = true;
        s.blockedUntil = now + settings.blockFor().toNanos();
        s.failures.clear();
      }
    }
  }

  private void forgetQuietSources(long now) {
    sources
        .entrySet()
        .removeIf(
            e -> {
              synchronized (e.getValue()) {
                Long last = e.getValue().failures.peekLast();
                return !e.getValue().blockedAt(now)
                    && (last == null || now - last > settings.window().toNanos());
              }
            });
  }
}
