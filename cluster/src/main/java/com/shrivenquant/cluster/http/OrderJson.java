package com.shrivenquant.cluster.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.OrderType;
import com.shrivenquant.engine.core.Side;
import com.shrivenquant.engine.core.TimeInForce;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Order-entry JSON: strict parsing (unknown fields, wrong types, fractions and strings-for-numbers
 * are errors, never coerced) and validation with messages a client can act on.
 */
public final class OrderJson {
  static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
          .build();

  /** The body of {@code POST /api/v1/orders}; every field nullable so "missing" can be named. */
  public record PlaceOrderBody(
      String instrument,
      String account,
      String clientOrderId,
      String side,
      String type,
      Long price,
      Long quantity,
      String timeInForce) {}

  /** A request that failed parsing or validation: becomes a 4xx with this message. */
  public static final class InvalidRequest extends RuntimeException {
    InvalidRequest(String message) {
      super(message, null, false, false);
    }
  }

  public record ValidOrder(String instrument, OrderRequest request) {}

  private OrderJson() {}

  public static ValidOrder parsePlaceOrder(String body) {
    if (body == null || body.isBlank()) throw new InvalidRequest("request body is empty");
    PlaceOrderBody b;
    try {
      b = MAPPER.readValue(body, PlaceOrderBody.class);
    } catch (UnrecognizedPropertyException e) {
      throw new InvalidRequest(
          "unknown field '" + e.getPropertyName() + "'; allowed: " + allowedFields());
    } catch (InvalidFormatException e) {
      String expected = e.getTargetType() == Long.class ? "an integer" : "a string";
      throw new InvalidRequest(
          "field '" + fieldOf(e) + "' must be " + expected + ", was " + e.getValue());
    } catch (MismatchedInputException e) {
      String field = fieldOf(e);
      throw new InvalidRequest(
          field.isEmpty()
              ? "request body must be a JSON object"
              : "field '" + field + "' has the wrong type");
    } catch (JsonProcessingException e) {
      throw new InvalidRequest("malformed JSON: " + e.getOriginalMessage());
    }
    if (b == null) throw new InvalidRequest("request body must be a JSON object");
    String instrument = identifier("instrument", b.instrument());
    String account = identifier("account", b.account());
    String clientOrderId = identifier("clientOrderId", b.clientOrderId());
    Side side = enumField("side", b.side(), Side.class, null);
    OrderType type = enumField("type", b.type(), OrderType.class, OrderType.LIMIT);
    TimeInForce tif =
        enumField(
            "timeInForce",
            b.timeInForce(),
            TimeInForce.class,
            type == OrderType.MARKET ? TimeInForce.IOC : TimeInForce.GTC);
    long quantity = positive("quantity", b.quantity());
    long price;
    if (type == OrderType.LIMIT) {
      price = positive("price", b.price());
    } else {
      if (b.price() != null) throw new InvalidRequest("a MARKET order must not have a price");
      if (tif != TimeInForce.IOC)
        throw new InvalidRequest("a MARKET order's timeInForce must be IOC");
      price = 0;
    }
    return new ValidOrder(
        instrument, new OrderRequest(account, clientOrderId, side, type, price, quantity, tif));
  }

  static String identifier(String field, String value) {
    if (value == null) throw new InvalidRequest("missing field '" + field + "'");
    if (!IDENTIFIER.matcher(value).matches())
      throw new InvalidRequest(
          "field '" + field + "' must be 1-64 characters of letters, digits, '_', '.', ':' or '-'");
    return value;
  }

  static long positive(String field, Long value) {
    if (value == null) throw new InvalidRequest("missing field '" + field + "'");
    if (value <= 0)
      throw new InvalidRequest("field '" + field + "' must be positive, was " + value);
    return value;
  }

  static <E extends Enum<E>> E enumField(String field, String value, Class<E> type, E dflt) {
    if (value == null) {
      if (dflt == null) throw new InvalidRequest("missing field '" + field + "'");
      return dflt;
    }
    try {
      return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new InvalidRequest(
          "field '"
              + field
              + "' must be one of "
              + Arrays.toString(type.getEnumConstants())
              + ", was '"
              + value
              + "'");
    }
  }

  static byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String fieldOf(MismatchedInputException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() == null ? "" : r.getFieldName())
        .collect(Collectors.joining("."));
  }

  private static String allowedFields() {
    return Arrays.stream(PlaceOrderBody.class.getRecordComponents())
        .map(c -> c.getName())
        .collect(Collectors.joining(", "));
  }
}
