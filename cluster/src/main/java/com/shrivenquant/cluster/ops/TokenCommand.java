package com.shrivenquant.cluster.ops;

/**
 * {@code bin/shrivenquant token --id ID --role viewer|operator|admin}: a new random token, printed
 * once for its holder, and the line for the tokens file (the Secret), which holds only its hash.
 */
public final class TokenCommand {
  private TokenCommand() {}

  public static void main(String[] args) {
    String id = null;
    String role = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--id" -> id = i + 1 < args.length ? args[++i] : null;
        case "--role" -> role = i + 1 < args.length ? args[++i] : null;
        default -> usage("unknown option " + args[i]);
      }
    }
    if (id == null || role == null) usage("--id and --role are required");
    OperatorRole parsed;
    try {
      parsed = OperatorRole.parse(role);
    } catch (IllegalArgumentException e) {
      usage(e.getMessage());
      return;
    }
    String token = TokenStore.generate();
    String line = TokenStore.line(id, parsed, token);
    try {
      TokenStore.parse(line, "the new line"); // an id the node accepts
    } catch (TokenStore.InvalidTokens e) {
      usage("token id must be 1-64 of A-Z a-z 0-9 . _ @ -");
      return;
    }
    System.out.println("token for " + id + " (shown once; hand it over, do not store it here):");
    System.out.println("  " + token);
    System.out.println(
        "line for the tokens file (Secret shrivenquant-operator-tokens, key tokens):");
    System.out.println("  " + line);
  }

  private static void usage(String problem) {
    System.err.println(problem);
    System.err.println("usage: bin/shrivenquant token --id ID --role viewer|operator|admin");
    System.exit(2);
  }
}
