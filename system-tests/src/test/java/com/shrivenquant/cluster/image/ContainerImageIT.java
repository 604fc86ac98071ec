package com.shrivenquant.cluster.image;

import static com.shrivenquant.cluster.http.OrderApiClient.limitOrder;
import static com.shrivenquant.cluster.http.OrderApiClient.placeUntilAnswered;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.shrivenquant.cluster.NodeJvm;
import com.shrivenquant.cluster.NodeMain;
import com.shrivenquant.local.dev.LocalClusterLayout;
import com.shrivenquant.testkit.infra.LocalPostgres;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's image as `mvn package` built it (jib:buildTar, target/jib-image.tar): its shape read
 * from the tarball, then its layers unpacked and run as a container runtime would (chroot as user
 * 65532): the image's java, and the image's entrypoint serving an order on a real PostgreSQL.
 */
class ContainerImageIT {
  static final Path TARBALL = Path.of(System.getProperty("sq.image.tar", "target/jib-image.tar"));
  static final String VERSION = System.getProperty("sq.image.version", "");
  static final Path WORK = TARBALL.resolveSibling("image-it");
  static ImageTarball image;

  @BeforeAll
  static void open() throws Exception {
    assertTrue(
        Files.isRegularFile(TARBALL),
        TARBALL + " missing: `mvn package` builds it (jib:buildTar, cluster/pom.xml)");
    image = ImageTarball.open(TARBALL, List.of(ImageChecks.CLASSPATH_FILE));
    Files.createDirectories(WORK);
    System.out.printf(
        "ContainerImageIT: %s, %d MiB, %d layers (%s)%n",
        TARBALL,
        Files.size(TARBALL) >> 20,
        image.layers().size(),
        image.config().path("history").findValuesAsText("comment"));
  }

  /** The ports the node listens on, from its own configuration. */
  static Set<Integer> nodePorts() {
    Config c = ConfigFactory.load();
    String kamon = "kamon.prometheus.embedded-server.port";
    return Set.of(
        c.getInt("shrivenquant.node.http.port"),
        c.getInt("akka.management.http.port"),
        c.getInt("akka.remote.artery.canonical.port"),
        c.hasPath(kamon) ? c.getInt(kamon) : 9095); // Kamon's endpoint: its default until wired
  }

  /** The flags the entrypoint must carry: heap from the memory limit, and NodeJvm's collector. */
  static List<String> entrypointFlags() {
    List<String> flags =
        new ArrayList<>(
            List.of(
                "-XX:InitialRAMPercentage=",
                "-XX:MaxRAMPercentage=",
                "-XX:+ExitOnOutOfMemoryError"));
    flags.addAll(NodeJvm.COLLECTOR);
    return flags;
  }

  @Test
  void imageHasTheNodesShape() {
    assertTrue(!VERSION.isEmpty(), "failsafe passes sq.image.version (cluster/pom.xml)");
    ImageChecks.Expected expected =
        new ImageChecks.Expected(
            NodeMain.class.getName(),
            "65532:65532",
            nodePorts(),
            VERSION,
            entrypointFlags(),
            List.of(
                "shrivenquant-engine-" + VERSION + ".jar",
                "shrivenquant-replication-" + VERSION + ".jar",
                "shrivenquant-failover-" + VERSION + ".jar"),
            List.of(
                "akka-actor_2.13-",
                "akka-cluster-sharding-typed_2.13-",
                "akka-persistence-jdbc_2.13-",
                "akka-management_2.13-",
                "postgresql-"));
    assertEquals(List.of(), ImageChecks.problems(image, expected));
  }

  /**
   * A container tool reads the tarball on its own: skopeo copies it to an OCI layout (checking
   * every layer against its digest) and finds the same config there.
   */
  @Test
  void skopeoReadsTheSameImage(@TempDir Path oci) throws Exception {
    String copied =
        command(
            List.of(
                "skopeo",
                "copy",
                "-q",
                "docker-archive:" + TARBALL.toAbsolutePath(),
                "oci:" + oci.toAbsolutePath() + ":node"),
            300);
    JsonNode config =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(
                command(
                    List.of(
                        "skopeo", "inspect", "--config", "oci:" + oci.toAbsolutePath() + ":node"),
                    60));
    for (String field : List.of("Entrypoint", "User", "ExposedPorts", "Env", "Labels")) {
      assertEquals(
          image.config().path("config").path(field),
          config.path("config").path(field),
          field + " (skopeo copy said: " + copied + ")");
    }
    assertEquals(image.config().path("rootfs"), config.path("rootfs"));
  }

  /** Runs a host tool to its end; its output if it exits 0. */
  static String command(List<String> command, long timeoutSeconds) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      throw new AssertionError(
          command.get(0) + " not found: apt-get install " + command.get(0) + " (.ci/run does)", e);
    }
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), command + " did not end");
    assertEquals(0, p.exitValue(), command + ": " + out);
    return out;
  }

  @Test
  void imagesJavaRunsAsItsUserAndNotWithoutItsJre() throws Exception {
    assumeTrue(isRoot(), "chroot needs root (CI runs as root)");
    try (ImageRootfs rootfs = ImageRootfs.unpack(image, WORK.resolve("rootfs"), l -> true)) {
      // The entrypoint's JVM flags, with JDK_JAVA_OPTIONS trying to change one: the launcher puts
      // JDK_JAVA_OPTIONS first, so it adds options but the entrypoint's flags stay in force.
      List<String> flags = new ArrayList<>();
      for (JsonNode a : image.config().path("config").path("Entrypoint")) {
        if (a.asText().equals("-cp")) break;
        flags.add(a.asText());
      }
      flags.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
      ImageRootfs.Result version =
          rootfs.run(
              flags,
              Map.of("JDK_JAVA_OPTIONS", "-XX:MaxRAMPercentage=50 -XX:+UseStringDeduplication"),
              WORK.resolve("java.log"),
              60);
      assertEquals(0, version.exitCode(), version.output());
      assertTrue(version.output().contains("openjdk version \"17."), version.output());
      for (String flag :
          List.of(
              "MaxRAMPercentage += 70\\.0+",
              "InitialRAMPercentage += 70\\.0+",
              "UseG1GC += true",
              "MaxGCPauseMillis += 20 ",
              "MaxTenuringThreshold += 1 ",
              "ExitOnOutOfMemoryError += true",
              "UseStringDeduplication += true")) {
        assertTrue(
            version.output().lines().anyMatch(l -> l.matches(".* " + flag + " .*")),
            flag + " in the JVM's final flags");
      }
      ImageRootfs.Result id = rootfs.run(List.of("id", "-u"), Map.of(), WORK.resolve("id.log"), 30);
      assertEquals("65532", id.output().trim());

      // The same command with the JRE gone fails: the run above is the base layer's JRE.
      Process rm =
          new ProcessBuilder("rm", "-rf", rootfs.dir().resolve("usr/lib/jvm").toString())
              .inheritIO()
              .start();
      assertEquals(0, rm.waitFor());
      ImageRootfs.Result none =
          rootfs.run(List.of("java", "-version"), Map.of(), WORK.resolve("no-java.log"), 60);
      assertNotEquals(0, none.exitCode(), none.output());
    }
  }

  /**
   * The image's own entrypoint (flags, classpath file, NodeMain) as user 65532, configured the way
   * k8s does it: JDK_JAVA_OPTIONS carries the settings. Ready, then it answers an order.
   */
  @Test
  void entrypointStartsANodeThatServesOrders() throws Exception {
    assumeTrue(isRoot(), "chroot needs root (CI runs as root)");
    try (LocalPostgres postgres = LocalPostgres.start();
        ImageRootfs rootfs = ImageRootfs.unpack(image, WORK.resolve("rootfs"), l -> true)) {
      LocalPostgres.Database db = postgres.createDatabase("image");
      LocalClusterLayout layout =
          LocalClusterLayout.allocate(
                  1, new LocalClusterLayout.Journal(db.jdbcUrl(), db.user(), db.password()))
              .with("shrivenquant.engine.synthetic-instruments.count", "4");
      // The launcher splits JDK_JAVA_OPTIONS like an @argfile: a value with spaces (a token line)
      // is quoted.
      String options =
          layout.systemProperties(0).entrySet().stream()
              .map(e -> "-D" + e.getKey() + "=" + e.getValue())
              .map(o -> o.contains(" ") ? "\"" + o + "\"" : o)
              .collect(Collectors.joining(" "));
      Path log = WORK.resolve("node.log");
      Files.deleteIfExists(log);
      long started = System.nanoTime();
      Process node = rootfs.start(List.of(), Map.of("JDK_JAVA_OPTIONS", options), log);
      try {
        layout.awaitReady(Duration.ofSeconds(180));
        long readyMillis = (System.nanoTime() - started) / 1_000_000;
        JsonNode ack =
            placeUntilAnswered(
                layout.httpBase(0),
                limitOrder("ACME", "acct-1", "image-1", "BUY", 10010, 5, "GTC"),
                Duration.ofSeconds(60));
        assertEquals("NEW", ack.get("status").asText(), ack.toString()); // resting, unfilled
        String status = Files.readString(Path.of("/proc", Long.toString(node.pid()), "status"));
        assertTrue(status.lines().anyMatch(l -> l.matches("Uid:\\s+65532\\s+65532.*")), status);
        assertTrue(
            Files.readString(log).contains("Picked up JDK_JAVA_OPTIONS"), "JDK_JAVA_OPTIONS used");
        System.out.printf(
            "ContainerImageIT: node from the image ready after %d ms, order %s%n",
            readyMillis, ack.get("status").asText());
      } catch (AssertionError | RuntimeException e) {
        System.out.println("node log (" + log + "):\n" + Files.readString(log));
        throw e;
      } finally {
        node.destroy();
        if (!node.waitFor(30, TimeUnit.SECONDS)) node.destroyForcibly().waitFor();
      }
    }
  }

  static boolean isRoot() throws Exception {
    return command(List.of("id", "-u"), 10).trim().equals("0");
  }
}
