package com.shrivenquant.testkit.infra;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Stops the {@link ChildJvm}s still running when this JVM exits normally (a shutdown hook); {@link
 * ParentWatchdog} covers a SIGKILL of this JVM.
 */
final class ChildJvmReaper {

  private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ChildJvmReaper::stopAll, "child-jvm-reaper"));
  }

  private ChildJvmReaper() {}

  /** Watched until it exits. */
  static void register(Process process) {
    process.onExit().thenRun(() -> RUNNING.remove(process));
    RUNNING.add(process);
    if (!process.isAlive()) {
      RUNNING.remove(process); // it may have exited before the registration above
    }
  }

  /** SIGTERM to all, 3 s for all together, then SIGKILL to them and their descendants. */
  private static void stopAll() {
    List<Process> children = new ArrayList<>(RUNNING);
    children.forEach(c -> c.toHandle().destroy());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    for (Process child : children) {
      try {
        child.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        break;
      }
    }
    for (Process child : children) {
      if (child.isAlive()) {
        child.descendants().forEach(ProcessHandle::destroyForcibly);
        child.toHandle().destroyForcibly();
      }
    }
  }
}
