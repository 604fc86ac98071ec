package com.shrivenquant.testkit.infra;

import java.nio.file.Path;

/**
 * Run in a child JVM by {@link NamedServerIT}: starts a named and sleeps, so the test can SIGKILL
 * this JVM and see named go too.
 */
public final class NamedServerTestMain {

  public static void main(String[] args) throws Exception {
    NamedServer named =
        NamedServer.builder()
            .name("orphan")
            .zone("orphan.test.")
            .logDirectory(Path.of(args[0]))
            .start();
    System.out.println("named pid=" + named.pid());
    Thread.sleep(Long.MAX_VALUE);
  }
}
