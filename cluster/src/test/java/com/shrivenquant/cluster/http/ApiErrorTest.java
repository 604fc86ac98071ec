package com.shrivenquant.cluster.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class ApiErrorTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void responseIsTheOneShape() throws Exception {
    HttpResponse r =
        ApiError.response(StatusCodes.CONFLICT, "conflict", "switchover refused: \"no peer\"");
    assertEquals(409, r.status().intValue());
    assertEquals(ContentTypes.APPLICATION_JSON, r.entity().getContentType());
    JsonNode body = JSON.readTree(((HttpEntity.Strict) r.entity()).getData().toArray());
    assertEquals(List.of("error", "message"), List.copyOf(iterable(body)));
    assertEquals("conflict", body.get("error").asText());
    assertEquals("switchover refused: \"no peer\"", body.get("message").asText());
  }

  @Test
  void akkasStatusesBecomeSnakeCaseCodes() {
    assertEquals("method_not_allowed", ApiError.codeOf(StatusCodes.METHOD_NOT_ALLOWED));
    assertEquals("unsupported_media_type", ApiError.codeOf(StatusCodes.UNSUPPORTED_MEDIA_TYPE));
  }

  private static List<String> iterable(JsonNode node) {
    List<String> names = new java.util.ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
