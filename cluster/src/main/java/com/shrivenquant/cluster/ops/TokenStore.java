package com.shrivenquant.cluster.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator API's bearer tokens, as SHA-256 hashes only: lines {@code <token-id> <role>
 * sha256:<hex>} from the tokens file (a mounted Kubernetes Secret) and from configuration. A
 * presented token is hashed and compared with every stored hash in constant time. The file is
 * polled and the whole set swapped atomically when its content changes (Kubernetes updates a
 * mounted Secret by a symlink swap, so a reader never sees half a file); a file that does not parse
 * leaves the previous set in place. Errors name the line, never its content: a pasted plaintext
 * token must not reach a log.
 */
public final class TokenStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TokenStore.class);
  private static final Pattern LINE =
      Pattern.compile(
          "([A-Za-z0-9._@-]{1,64})\\s+(viewer|operator|admin)\\s+sha256:([0-9a-fA-F]{64})");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Presented tokens longer than this are not even hashed. */
  private static final int MAX_TOKEN_CHARS = 512;

  /** Who called: a token's id and role. */
  public record Principal(String tokenId, OperatorRole role) {}

  private record Entry(Principal principal, byte[] sha256) {}

  /** A tokens file or configuration value that does not parse; the message names no token. */
  public static final class InvalidTokens extends Exception {
    InvalidTokens(String message) {
      super(message);
    }
  }

  private final Optional<Path> file;
  private final String inline;
  private volatile List<Entry> entries = List.of();
  private volatile String loadedFileContent;
  private ScheduledExecutorService poller;

  TokenStore(Optional<Path> file, String inline) {
    this.file = file;
    this.inline = inline;
  }

  /**
   * Loads now (a bad file or value fails the start) and polls the file every {@code
   * reloadInterval}.
   */
  public static TokenStore start(OperatorApiSettings settings) throws InvalidTokens {
    TokenStore store = new TokenStore(settings.tokensFile(), settings.inlineTokens());
    List<Principal> loaded = store.reload();
    if (loaded.isEmpty()) {
      log.warn(
          "No operator API tokens (file {}, shrivenquant.operator-api.tokens empty): every"
              + " operator call is refused with 401 until some are configured",
          settings.tokensFile().orElse(null));
    } else {
      log.info("Operator API tokens loaded: {}", describe(loaded));
    }
    store.poll(settings.reloadInterval());
    return store;
  }

  private void poll(Duration every) {
    if (file.isEmpty()) return;
    poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "operator-token-reload");
              t.setDaemon(true);
              return t;
            });
    poller.scheduleWithFixedDelay(
        this::reloadIfChanged, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void reloadIfChanged() {
    try {
      if (readFile().equals(loadedFileContent)) return;
      log.info(
          "Operator API tokens reloaded after the tokens file changed: {}", describe(reload()));
    } catch (InvalidTokens e) {
      log.error(
          "Operator API tokens file changed but was not loaded, the previous {} tokens stay: {}",
          entries.size(),
          e.getMessage());
    } catch (RuntimeException e) {
      log.error("Operator API tokens reload failed", e);
    }
  }

  /** Reads the file and configuration again and swaps the whole set; on error nothing changes. */
  public synchronized List<Principal> reload() throws InvalidTokens {
    String fileContent = readFile();
    List<Entry> next = new ArrayList<>(parse(inline, "shrivenquant.operator-api.tokens"));
    if (file.isPresent()) next.addAll(parse(fileContent, file.get().toString()));
    Set<String> ids = new HashSet<>();
    for (Entry e : next) {
      if (!ids.add(e.principal().tokenId()))
        throw new InvalidTokens("token id '" + e.principal().tokenId() + "' appears twice");
    }
    entries = List.copyOf(next);
    loadedFileContent = fileContent;
    return principals();
  }

  public List<Principal> principals() {
    return entries.stream().map(Entry::principal).toList();
  }

  /** The token's principal, if its hash is one of the stored ones. */
  public Optional<Principal> authenticate(String presented) {
    if (presented.isEmpty() || presented.length() > MAX_TOKEN_CHARS) return Optional.empty();
    byte[] hash = sha256(presented);
    Principal found = null;
    // Every stored hash is compared (no early exit), each in constant time.
    for (Entry e : entries) {
      if (MessageDigest.isEqual(hash, e.sha256()) && found == null) found = e.principal();
    }
    return Optional.ofNullable(found);
  }

  private String readFile() {
    if (file.isEmpty()) return "";
    try {
      return Files.readString(file.get(), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return ""; // no Secret mounted: no tokens from it (a removed file revokes them)
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(
          "tokens file " + file.get() + " unreadable: " + e.getMessage(), e);
    }
  }

  /**
   * Lines (or ';'-separated entries) of {@code <token-id> <role> sha256:<hex>}; '#' starts a
   * comment line.
   */
  static List<Entry> parse(String text, String source) throws InvalidTokens {
    List<Entry> out = new ArrayList<>();
    String[] lines = text.split("[\\n;]");
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) continue;
      Matcher m = LINE.matcher(line);
      if (!m.matches()) {
        throw new InvalidTokens(
            source
                + ", entry "
                + (i + 1)
                + ": expected '<token-id> <viewer|operator|admin> sha256:<64 hex digits>' (bin/shrivenquant token prints one)");
      }
      out.add(
          new Entry(
              new Principal(m.group(1), OperatorRole.parse(m.group(2))),
              HexFormat.of().parseHex(m.group(3).toLowerCase(Locale.ROOT))));
    }
    return out;
  }

  /** A new random token: 256 bits, URL-safe. */
  public static String generate() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return "sq_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The line a tokens file holds for {@code token}: its id, role and hash, never the token. */
  public static String line(String tokenId, OperatorRole role, String token) {
    return tokenId + " " + role.label() + " sha256:" + HexFormat.of().formatHex(sha256(token));
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  private static String describe(List<Principal> loaded) {
    return loaded.size()
        + " ("
        + String.join(", ", loaded.stream().map(p -> p.tokenId() + ":" + p.role().label()).toList())
        + ")";
  }

  @Override
  public void close() {
    if (poller != null) poller.shutdownNow();
  }
}
