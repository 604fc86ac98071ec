package com.shrivenquant.cluster.http;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.server.RejectionHandler;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Locale;

/**
 * The one error shape of the node's HTTP APIs, the order API and the operator API alike: {@code
 * {"error": "<code>", "message": "<text for a person>"}}. The code is machine-readable snake case
 * (bad_request, unknown_instrument, unauthorized, forbidden, conflict, unavailable,
 * too_many_requests, ...); clients branch on it, never on the message.
 */
public record ApiError(String error, String message) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The response with this status and body. */
  public static HttpResponse response(StatusCode status, String code, String message) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(
            HttpEntities.create(
                ContentTypes.APPLICATION_JSON, new ApiError(code, message).bytes()));
  }

  /**
   * The code Akka's own answers get: the status's reason phrase ("Method Not Allowed" ->
   * method_not_allowed).
   */
  public static String codeOf(StatusCode status) {
    return status.reason().toLowerCase(Locale.ROOT).replace(' ', '_');
  }

  /** Akka's default rejection answers (plain text), rewritten into this shape. */
  public static RejectionHandler inThisShape(RejectionHandler handler) {
    return handler.mapRejectionResponse(
        response -> {
          HttpEntity entity = response.entity();
          if (entity instanceof HttpEntity.Strict strict
              && !entity.getContentType().equals(ContentTypes.APPLICATION_JSON)) {
            return response.withEntity(
                HttpEntities.create(
                    ContentTypes.APPLICATION_JSON,
                    new ApiError(codeOf(response.status()), strict.getData().utf8String())
                        .bytes()));
          }
          return response;
        });
  }

  private byte[] bytes() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
