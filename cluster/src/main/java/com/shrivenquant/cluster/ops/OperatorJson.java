package com.shrivenquant.cluster.ops;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.shrivenquant.cluster.http.ApiError;

/** JSON bodies of the operator API: documents, and errors in the order API's shape. */
final class OperatorJson {
  static final ObjectMapper JSON = new ObjectMapper();

  private OperatorJson() {}

  static HttpResponse json(StatusCode status, Object body) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(
              HttpEntities.create(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A body that is JSON already (documents read from PostgreSQL). */
  static HttpResponse raw(StatusCode status, String json) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, json));
  }

  /** The node's one error shape ({@link ApiError}). */
  static HttpResponse error(StatusCode status, String code, String message) {
    return ApiError.response(status, code, message);
  }
}
