package com.shrivenquant.cluster.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Real HTTP calls to a node's management port with a bearer token, for tests. */
public final class OperatorApiClient {
  public static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private OperatorApiClient() {}

  /**
   * @param token sent as {@code Authorization: Bearer}; null: no header
   * @param contentType of {@code body}; ignored without a body
   */
  public static HttpResponse<String> send(
      URI base, String method, String path, String token, String body, String contentType)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(90))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (body != null) b.header("Content-Type", contentType);
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** GET with the token; asserts 200. */
  public static JsonNode get(URI base, String path, String token)
      throws IOException, InterruptedException {
    HttpResponse<String> r = send(base, "GET", path, token, null, null);
    assertEquals(200, r.statusCode(), () -> "GET " + path + ": " + r.body());
    return JSON.readTree(r.body());
  }
}
