package com.shrivenquant.testkit.infra;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Child-side entry point that {@link ChildJvm} puts in front of the real main class.
 *
 * <p>Shutdown hooks cannot run when the parent JVM is SIGKILLed (a hung surefire fork, an IDE's
 * stop button), and an orphaned node or broker would keep its ports. The parent holds the write end
 * of this process's stdin; the kernel closes it whatever way the parent dies, so EOF on stdin means
 * the parent is gone. Uses nothing but the JDK, so it works on any child classpath.
 *
 * <p>Usage: {@code java -cp ... com.shrivenquant.testkit.infra.ParentWatchdog <main class>
 * <args...>}
 */
public final class ParentWatchdog {

  /** Time the child's own shutdown hooks get before the JVM halts. */
  private static final long GRACE_MILLIS = 10_000;

  private ParentWatchdog() {}

  public static void main(String[] args) throws Throwable {
    if (args.length == 0) {
      throw new IllegalArgumentException("usage: ParentWatchdog <main class> [args...]");
    }
    Thread watchdog = new Thread(ParentWatchdog::exitWhenStdinCloses, "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();

    Method main =
        Class.forName(args[0], true, ClassLoader.getSystemClassLoader())
            .getMethod("main", String[].class);
    try {
      main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void exitWhenStdinCloses() {
    try {
      while (System.in.read() != -1) {
        // the parent never writes; anything it does write is ignored
      }
    } catch (IOException ignored) {
      // a broken pipe means the same as EOF
    }
    System.err.println("[parent-watchdog] parent JVM is gone; exiting");
    Thread halter =
        new Thread(
            () -> {
              try {
                Thread.sleep(GRACE_MILLIS);
              } catch (InterruptedException ignored) {
                // halt anyway
              }
              Runtime.getRuntime().halt(143);
            },
            "parent-watchdog-halt");
    halter.setDaemon(true);
    halter.start();
    System.exit(143);
  }
}
