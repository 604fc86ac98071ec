package com.shrivenquant.testkit.infra;

/** The short waits between polls of a starting or stopping server. */
final class Pause {
  private Pause() {}

  /** Sleeps; an interrupt is kept (the flag set again) and ends the wait with an exception. */
  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
