package com.shrivenquant.failover.lease;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.shrivenquant.failover.lease.PrimacyLease.LeaseUnavailable;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * etcd's v3 JSON gateway (grpc-gateway, HTTP/1.1 POSTs) on a list of members, under one deadline
 * per lease call. A member that refuses is skipped at once; one that does not answer gets a short
 * slice of the deadline (a partitioned member or one without quorum just waits), then the next
 * member is tried. The last member that answered is tried first next time.
 *
 * <p>A request that may have reached a member before it failed (a timeout after connecting, an
 * error answer) leaves its effect unknown: the {@link Call} remembers that, so a compare-and-swap
 * retried on another member can tell its own earlier success from a lost race.
 */
final class EtcdGateway {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MIN_ATTEMPT_MILLIS = 100;
  private static final long PAUSE_BETWEEN_ROUNDS_MILLIS = 25;

  private final List<URI> members;
  private final HttpClient http;
  private final long attemptMillis;
  private volatile int preferred;

  EtcdGateway(List<String> endpoints, Duration callTimeout) {
    if (endpoints.isEmpty()) throw new IllegalArgumentException("no etcd endpoints");
    this.members = endpoints.stream().map(e -> URI.create(e.endsWith("/") ? e : e + "/")).toList();
    // An equal share of the deadline each: a silent member costs that much, the next still has
    // time. A single member gets all of it.
    this.attemptMillis = Math.max(MIN_ATTEMPT_MILLIS, callTimeout.toMillis() / members.size());
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofMillis(attemptMillis))
            .build();
  }

  /** One lease call: its deadline and whether any request of it may have taken effect unseen. */
  static final class Call {
    final String what;
    final Duration timeout;
    final long deadlineNanos;
    boolean ambiguous;

    Call(String what, Duration timeout) {
      this.what = what;
      this.timeout = timeout;
      this.deadlineNanos = System.nanoTime() + timeout.toNanos();
    }

    long remainingMillis() {
      return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    }
  }

  /** POSTs {@code body} to {@code path} on the members in turn until one answers 200 in time. */
  JsonNode post(String path, ObjectNode body, Call call) throws LeaseUnavailable {
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    int n = members.size();
    int first = preferred;
    String lastFailure = "no member tried";
    Throwable lastCause = null;
    // Two rounds: a member that failed fast (mid-election) may answer a moment later.
    for (int i = 0; i < 2 * n; i++) {
      if (i == n) sleepQuietly(Math.min(PAUSE_BETWEEN_ROUNDS_MILLIS, call.remainingMillis()));
      long slice = Math.min(call.remainingMillis(), attemptMillis);
      if (slice <= 0) break;
      int m = (first + i) % n;
      URI uri = members.get(m).resolve(path.startsWith("/") ? path.substring(1) : path);
      HttpRequest request =
          HttpRequest.newBuilder(uri)
              .timeout(Duration.ofMillis(slice))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
              .build();
      CompletableFuture<HttpResponse<String>> f =
          http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
      try {
        HttpResponse<String> response = f.get(slice, TimeUnit.MILLISECONDS);
        JsonNode answer = parse(response.body());
        if (response.statusCode() == 200 && answer != null && !answer.has("error")) {
          preferred = m;
          return answer;
        }
        call.ambiguous = true; // e.g. "request timed out": the proposal may still commit
        lastFailure = members.get(m) + " answered " + response.statusCode() + ": " + brief(answer);
        lastCause = null;
      } catch (TimeoutException e) {
        f.cancel(true);
        call.ambiguous = true;
        lastFailure = members.get(m) + " did not answer within " + slice + " ms";
        lastCause = e;
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (!(cause instanceof ConnectException || cause instanceof HttpConnectTimeoutException))
          call.ambiguous = true;
        lastFailure = members.get(m) + ": " + cause;
        lastCause = cause;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        f.cancel(true);
        call.ambiguous = true;
        throw new LeaseUnavailable("interrupted during etcd witness " + call.what, e);
      }
    }
    throw new LeaseUnavailable(
        "etcd witness "
            + call.what
            + " failed within "
            + call.timeout.toMillis()
            + " ms ("
            + path
            + "), last: "
            + lastFailure,
        lastCause);
  }

  /** Fire and forget, to the member that answered last (e.g. revoking a lease nobody needs). */
  void postQuietly(String path, ObjectNode body) {
    URI uri = members.get(preferred).resolve(path.substring(1));
    http.sendAsync(
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofMillis(attemptMillis))
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build(),
        HttpResponse.BodyHandlers.discarding());
  }

  static ObjectNode object() {
    return JSON.createObjectNode();
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static String text(JsonNode base64) {
    return base64 == null || base64.isMissingNode() || base64.isNull()
        ? ""
        : new String(Base64.getDecoder().decode(base64.asText()), StandardCharsets.UTF_8);
  }

  /** The end of a range covering every key that starts with {@code prefix}. */
  static String prefixEnd(String prefix) {
    byte[] b = prefix.getBytes(StandardCharsets.UTF_8);
    for (int i = b.length - 1; i >= 0; i--) {
      if (b[i] != (byte) 0xff) {
        b[i]++;
        return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(b, i + 1));
      }
    }
    return Base64.getEncoder().encodeToString(new byte[] {0});
  }

  // A streamed answer (keepalive) is one JSON object per line: the first one is ours.
  private static JsonNode parse(String body) {
    String first = body.strip();
    int nl = first.indexOf('\n');
    if (nl > 0) first = first.substring(0, nl);
    try {
      return first.isEmpty() ? null : JSON.readTree(first);
    } catch (IOException e) {
      return null;
    }
  }

  private static String brief(JsonNode answer) {
    if (answer == null) return "(no JSON)";
    JsonNode e = answer.has("error") ? answer.get("error") : answer;
    String m = e.path("message").asText(e.path("error").asText(""));
    return m.isEmpty() ? e.toString() : m;
  }

  private static void sleepQuietly(long millis) {
    if (millis <= 0) return;
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
