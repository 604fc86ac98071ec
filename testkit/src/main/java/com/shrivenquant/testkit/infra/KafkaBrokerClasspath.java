package com.shrivenquant.testkit.infra;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where the broker's jars are: the class path {@link KafkaBroker} starts its child JVMs with, kept
 * apart from ours (see {@link KafkaBroker#CLASSPATH_RESOURCE}).
 */
final class KafkaBrokerClasspath {

  private KafkaBrokerClasspath() {}

  /** See {@link KafkaBroker#brokerClasspath()}. */
  static String resolve() {
    String fromProperty = System.getProperty(KafkaBroker.CLASSPATH_PROPERTY);
    if (fromProperty != null && !fromProperty.isBlank()) {
      return checked(fromProperty.trim(), "system property " + KafkaBroker.CLASSPATH_PROPERTY);
    }
    try (InputStream in =
        KafkaBroker.class.getResourceAsStream("/" + KafkaBroker.CLASSPATH_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "no "
                + KafkaBroker.CLASSPATH_RESOURCE
                + " next to "
                + KafkaBroker.class.getName()
                + " (in "
                + testkitLocation()
                + "): the testkit's Maven build writes it in generate-resources"
                + " (run `mvn -pl testkit generate-resources` after an IDE-only build), or set -D"
                + KafkaBroker.CLASSPATH_PROPERTY);
      }
      return checked(
          new String(in.readAllBytes(), StandardCharsets.UTF_8).trim(),
          KafkaBroker.CLASSPATH_RESOURCE);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + KafkaBroker.CLASSPATH_RESOURCE, e);
    }
  }

  private static String checked(String classpath, String source) {
    if (classpath.isEmpty()) {
      throw new IllegalStateException(source + " is empty");
    }
    List<String> missing =
        Stream.of(classpath.split(File.pathSeparator))
            .filter(entry -> !Files.exists(Path.of(entry)))
            .toList();
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "the Kafka broker class path from "
              + source
              + " names "
              + missing.size()
              + " missing file(s), e.g. "
              + missing.get(0)
              + ". The local Maven repository changed since the testkit"
              + " was built: rebuild it (mvn -pl testkit generate-resources).");
    }
    return classpath;
  }

  /**
   * The testkit's classes (a directory or the jar): on every child's class path, for the admin
   * main.
   */
  static String testkitLocation() {
    try {
      return Path.of(KafkaBroker.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .toString();
    } catch (URISyntaxException | RuntimeException e) {
      throw new IllegalStateException("cannot locate the testkit classes", e);
    }
  }
}
