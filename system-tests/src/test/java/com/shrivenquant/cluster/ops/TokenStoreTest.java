package com.shrivenquant.cluster.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.TestTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token lines, hashing, constant-time lookup, and rotation of the file without a restart. */
class TokenStoreTest {
  @TempDir Path dir;

  static final String VIEWER_LINE =
      TokenStore.line("viewer-1", OperatorRole.VIEWER, TestTokens.VIEWER);
  static final String ADMIN_LINE = TokenStore.line("admin-1", OperatorRole.ADMIN, TestTokens.ADMIN);

  @Test
  void aLineHoldsIdRoleAndTheSha256OfTheTokenNeverTheToken() {
    assertTrue(VIEWER_LINE.matches("viewer-1 viewer sha256:[0-9a-f]{64}"), VIEWER_LINE);
    assertFalse(VIEWER_LINE.contains(TestTokens.VIEWER));
    // SHA-256 of the UTF-8 bytes, as `printf %s TOKEN | sha256sum` prints it.
    assertEquals(
        "x viewer sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        TokenStore.line("x", OperatorRole.VIEWER, "hello"));
  }

  @Test
  void theRightTokenAuthenticatesWithItsRoleAndAnythingElseDoesNot() throws Exception {
    TokenStore store =
        new TokenStore(Optional.empty(), VIEWER_LINE + "\n# comment\n\n" + ADMIN_LINE);
    store.reload();
    assertEquals(
        Optional.of(new TokenStore.Principal("viewer-1", OperatorRole.VIEWER)),
        store.authenticate(TestTokens.VIEWER));
    assertEquals(
        Optional.of(new TokenStore.Principal("admin-1", OperatorRole.ADMIN)),
        store.authenticate(TestTokens.ADMIN));
    assertEquals(Optional.empty(), store.authenticate(TestTokens.UNKNOWN));
    assertEquals(Optional.empty(), store.authenticate(TestTokens.VIEWER + "x"));
    assertEquals(Optional.empty(), store.authenticate(TestTokens.VIEWER.substring(1)));
    assertEquals(Optional.empty(), store.authenticate(""));
    assertEquals(Optional.empty(), store.authenticate("a".repeat(10_000)));
  }

  @Test
  void semicolonsSeparateEntriesInConfigurationAndTheFileAddsToThem() throws Exception {
    Path file = dir.resolve("tokens");
    Files.writeString(file, ADMIN_LINE + "\n");
    TokenStore store =
        new TokenStore(
            Optional.of(file),
            VIEWER_LINE + ";" + TokenStore.line("op", OperatorRole.OPERATOR, TestTokens.OPERATOR));
    assertEquals(
        List.of("viewer-1", "op", "admin-1"),
        store.reload().stream().map(TokenStore.Principal::tokenId).toList());
  }

  @Test
  void aMalformedEntryIsNamedByPositionWithoutRepeatingItsContent() {
    // The classic mistake: the plaintext token pasted instead of its hash.
    String pasted = "alice admin " + TestTokens.ADMIN;
    TokenStore.InvalidTokens e =
        assertThrows(
            TokenStore.InvalidTokens.class,
            () -> TokenStore.parse(VIEWER_LINE + "\n" + pasted, "tokens"));
    assertTrue(e.getMessage().contains("tokens, entry 2: expected"), e.getMessage());
    assertFalse(e.getMessage().contains(TestTokens.ADMIN), "the error must not repeat the token");
    assertThrows(
        TokenStore.InvalidTokens.class,
        () -> TokenStore.parse("bob superuser sha256:" + "0".repeat(64), "t"));
    assertThrows(
        TokenStore.InvalidTokens.class, () -> TokenStore.parse("bob admin sha256:abc", "t"));
  }

  @Test
  void twoEntriesWithOneIdAreRefused() {
    TokenStore store =
        new TokenStore(
            Optional.empty(),
            VIEWER_LINE + "\n" + TokenStore.line("viewer-1", OperatorRole.ADMIN, TestTokens.ADMIN));
    TokenStore.InvalidTokens e = assertThrows(TokenStore.InvalidTokens.class, store::reload);
    assertTrue(e.getMessage().contains("'viewer-1' appears twice"), e.getMessage());
  }

  @Test
  void generatedTokensAreLongRandomAndUrlSafe() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      String t = TokenStore.generate();
      assertTrue(t.matches("sq_[A-Za-z0-9_-]{43}"), t.length() + " characters");
      assertTrue(seen.add(t));
    }
  }

  /**
   * Kubernetes updates a mounted Secret by writing a new directory and swapping the {@code ..data}
   * symlink; {@code tokens} points through it. The poller picks the new set up, a broken file keeps
   * the previous set, a removed file revokes.
   */
  @Test
  void rotatesWhenTheMountedSecretIsSwappedKeepsTheOldSetOnABrokenFileAndRevokesOnRemoval()
      throws Exception {
    Path v1 = Files.createDirectories(dir.resolve("..v1"));
    Files.writeString(v1.resolve("tokens"), VIEWER_LINE + "\n" + ADMIN_LINE + "\n");
    Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
    Files.createSymbolicLink(dir.resolve("tokens"), Path.of("..data/tokens"));
    OperatorApiSettings settings =
        new OperatorApiSettings(
            Optional.of(dir.resolve("tokens")),
            "",
            Duration.ofMillis(20),
            new FailureThrottle.Settings(10, Duration.ofMinutes(1), Duration.ofMinutes(1)),
            Duration.ofSeconds(5));
    try (TokenStore store = TokenStore.start(settings)) {
      assertTrue(store.authenticate(TestTokens.VIEWER).isPresent());

      swap(
          v1.getParent(),
          "..v2",
          TokenStore.line("viewer-1", OperatorRole.VIEWER, TestTokens.ROTATED_VIEWER)
              + "\n"
              + ADMIN_LINE);
      Eventually.await(
          "the old viewer token refused",
          Duration.ofSeconds(5),
          () -> store.authenticate(TestTokens.VIEWER),
          Optional::isEmpty);
      assertEquals(
          Optional.of(new TokenStore.Principal("viewer-1", OperatorRole.VIEWER)),
          store.authenticate(TestTokens.ROTATED_VIEWER));
      assertTrue(store.authenticate(TestTokens.ADMIN).isPresent());

      swap(v1.getParent(), "..v3", "not a token line\n");
      Thread.sleep(200); // ten polls
      assertTrue(
          store.authenticate(TestTokens.ROTATED_VIEWER).isPresent(),
          "a broken file changes nothing");
      assertEquals(2, store.principals().size());

      Files.delete(dir.resolve("tokens"));
      Eventually.await(
          "no principals left", Duration.ofSeconds(5), store::principals, List::isEmpty);
      assertEquals(Optional.empty(), store.authenticate(TestTokens.ADMIN));
    }
  }

  private static void swap(Path dir, String version, String content) throws Exception {
    Path v = Files.createDirectories(dir.resolve(version));
    Files.writeString(v.resolve("tokens"), content);
    Path tmp = dir.resolve("..data_tmp");
    Files.createSymbolicLink(tmp, v.getFileName());
    Files.move(
        tmp,
        dir.resolve("..data"),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }
}
