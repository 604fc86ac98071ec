package com.shrivenquant.failover.routing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Tells the local {@link RoutingEndpoint} which region is active now. */
public final class HttpRouter implements ClientRouter {
  private final String endpoint;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  public HttpRouter(String endpoint) {
    this.endpoint = endpoint;
  }

  @Override
  public String route(String activeRegion, long epoch, String orderApiUrl) throws Exception {
    String body =
        RoutingEndpoint.ROUTE_JSON.writeValueAsString(
            new RoutingEndpoint.Route(activeRegion, epoch, orderApiUrl));
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(endpoint + "/routing/active"))
            .timeout(Duration.ofSeconds(2))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(body))
            .build();
    HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException(
          "routing endpoint answered " + r.statusCode() + ": " + r.body());
    }
    return "routing endpoint "
        + endpoint
        + " now sends clients to "
        + activeRegion
        + " ("
        + orderApiUrl
        + ")";
  }
}
