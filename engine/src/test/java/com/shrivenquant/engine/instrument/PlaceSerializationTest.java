package com.shrivenquant.engine.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import akka.serialization.jackson.JacksonObjectMapperProvider;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.shrivenquant.engine.CborSerializable;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.Side;
import com.shrivenquant.engine.core.TimeInForce;
import com.shrivenquant.engine.instrument.InstrumentEntity.Place;
import com.shrivenquant.engine.instrument.InstrumentEntity.PlaceReply;
import com.shrivenquant.testkit.ActorTestKitExtension;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The order's trace context travels inside {@link Place} to an entity on another node, as the
 * Jackson CBOR bytes Akka sends; nodes of the version before it and after it understand each other.
 */
class PlaceSerializationTest {
  @RegisterExtension static final ActorTestKitExtension testKit = new ActorTestKitExtension();

  static final OrderRequest ORDER =
      OrderRequest.limit("acct", "c-1", Side.BUY, 10_000, 1, TimeInForce.GTC);
  static final String TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  /** The command as a node before trace context knew it. */
  record PlaceWithoutTrace(OrderRequest request, ActorRef<PlaceReply> replyTo)
      implements CborSerializable {}

  @Test
  void traceContextSurvivesTheWireAndOlderNodesInteroperate() throws Exception {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    ObjectMapper cbor =
        JacksonObjectMapperProvider.get(Adapter.toClassic(testKit.system()))
            .getOrCreate("jackson-cbor", Optional.empty());
    ActorRef<PlaceReply> replyTo = testKit.testKit().<PlaceReply>createTestProbe().ref();
    Place sent = new Place(ORDER, replyTo, TRACE);
    Serializer serializer = serialization.findSerializerFor(sent);
    assertEquals("JacksonCborSerializer", serializer.getClass().getSimpleName());
    byte[] bytes = serialization.serialize(sent).get();
    String manifest = Serializers.manifestFor(serializer, sent);

    assertEquals(sent, serialization.deserialize(bytes, serializer.identifier(), manifest).get());

    ObjectNode older = (ObjectNode) cbor.readTree(bytes);
    assertEquals(TRACE, older.remove("traceParent").asText());
    Place fromOlderNode =
        (Place)
            serialization
                .deserialize(cbor.writeValueAsBytes(older), serializer.identifier(), manifest)
                .get();
    assertNull(fromOlderNode.traceParent(), "an older node's order arrives untraced");
    assertEquals(ORDER, fromOlderNode.request());
    assertEquals(replyTo, fromOlderNode.replyTo());

    PlaceWithoutTrace atOlderNode =
        (PlaceWithoutTrace)
            serialization
                .deserialize(bytes, serializer.identifier(), PlaceWithoutTrace.class.getName())
                .get();
    assertEquals(ORDER, atOlderNode.request(), "an older node ignores the field it does not know");
  }
}
