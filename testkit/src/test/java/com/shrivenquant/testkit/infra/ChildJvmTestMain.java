package com.shrivenquant.testkit.infra;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.time.Duration;

/** Main class run in child JVMs by {@link ChildJvmTest}; the first argument picks the behaviour. */
public final class ChildJvmTestMain {

  public static void main(String[] args) throws Exception {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("shutdown hook ran")));
    switch (args[0]) {
      case "sleep" -> {
        System.out.println(
            "greeting="
                + System.getProperty("greeting")
                + " env="
                + System.getenv("CHILD_JVM_TEST"));
        System.err.println("to stderr");
        System.out.println("ready pid=" + ProcessHandle.current().pid());
        Thread.sleep(Long.MAX_VALUE);
      }
      case "exit" -> {
        System.out.println("exiting with " + args[1]);
        System.exit(Integer.parseInt(args[1]));
      }
      case "http" -> {
        Thread.sleep(300); // not ready at once, so the poll has to retry
        HttpServer server =
            HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1])), 0);
        server.createContext(
            "/ready",
            exchange -> {
              exchange.sendResponseHeaders(200, -1);
              exchange.close();
            });
        server.start();
        Thread.sleep(Long.MAX_VALUE);
      }
      case "parent-of" -> {
        // A middle JVM that starts a grandchild, so a test can SIGKILL a parent of a ChildJvm.
        ChildJvm grandchild =
            ChildJvm.builder("grandchild", ChildJvmTestMain.class)
                .args("sleep")
                .logDirectory(java.nio.file.Path.of(args[1]))
                .start();
        grandchild.awaitLogLine(java.util.regex.Pattern.compile("^ready"), Duration.ofSeconds(30));
        System.out.println("grandchild pid=" + grandchild.pid());
        Thread.sleep(Long.MAX_VALUE);
      }
      case "postgres" -> {
        // Dies by SIGKILL in the test, leaving its postmaster behind like a crashed dev launcher.
        LocalPostgres pg =
            LocalPostgres.builder()
                .name("orphaned")
                .dataDirectory(java.nio.file.Path.of(args[1]))
                .start();
        System.out.println("postgres ready port=" + pg.port());
        Thread.sleep(Long.MAX_VALUE);
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
  }
}
