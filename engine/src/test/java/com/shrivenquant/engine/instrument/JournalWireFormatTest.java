package com.shrivenquant.engine.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import com.shrivenquant.engine.core.EngineSnapshotBytes;
import com.shrivenquant.engine.core.Fill;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.core.RejectReason;
import com.shrivenquant.engine.core.Side;
import com.shrivenquant.engine.core.TimeInForce;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderAccepted;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderCancelled;
import com.shrivenquant.engine.instrument.InstrumentEntity.OrderRejected;
import com.shrivenquant.testkit.ActorTestKitExtension;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Journals hold these bytes and manifests (class names included): moving or renaming an event
 * class, or changing a field, would leave stored journals unreadable.
 */
class JournalWireFormatTest {
  @RegisterExtension static final ActorTestKitExtension testKit = new ActorTestKitExtension();

  static final OrderRequest ORDER =
      OrderRequest.limit("acct", "c-1", Side.BUY, 10_000, 3, TimeInForce.GTC);

  @Test
  void eventsKeepTheirManifestsAndBytes() {
    pin(
        new OrderAccepted(
            ORDER,
            7,
            10_000,
            List.of(new Fill(5, "maker", 7, "acct", Side.BUY, 9_990, 2)),
            1_700_000_000_000L),
        "com.shrivenquant.engine.instrument.InstrumentEntity$OrderAccepted",
        "bf6772657175657374bf676163636f756e7464616363746d636c69656e744f72"
            + "646572496463632d316473696465634255596474797065654c494d4954657072"
            + "696365192710687175616e74697479036b74696d65496e466f72636563475443"
            + "ff676f726465724964076e65666665637469766550726963651927106566696c"
            + "6c7381bf6c6d616b65724f726465724964056c6d616b65724163636f756e7465"
            + "6d616b65726c74616b65724f726465724964076c74616b65724163636f756e74"
            + "64616363746974616b6572536964656342555965707269636519270668717561"
            + "6e7469747902ff6974696d657374616d701b0000018bcfe56800ff");
    pin(
        new OrderRejected(ORDER, RejectReason.PRICE_BAND, 1_700_000_000_001L),
        "com.shrivenquant.engine.instrument.InstrumentEntity$OrderRejected",
        "bf6772657175657374bf676163636f756e7464616363746d636c69656e744f72"
            + "646572496463632d316473696465634255596474797065654c494d4954657072"
            + "696365192710687175616e74697479036b74696d65496e466f72636563475443"
            + "ff66726561736f6e6a50524943455f42414e446974696d657374616d701b0000"
            + "018bcfe56801ff");
    pin(
        new OrderCancelled("acct", 7, 1_700_000_000_002L),
        "com.shrivenquant.engine.instrument.InstrumentEntity$OrderCancelled",
        "bf676163636f756e746461636374676f726465724964076974696d657374616d"
            + "701b0000018bcfe56802ff");
    pin(
        new EngineSnapshotBytes(new byte[] {0, 0, 0, 1, 2, 3}),
        "com.shrivenquant.engine.core.EngineSnapshotBytes",
        "bf646461746146000000010203ff");
  }

  private static void pin(Object event, String manifest, String hex) {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    Serializer serializer = serialization.findSerializerFor(event);
    assertEquals("JacksonCborSerializer", serializer.getClass().getSimpleName());
    assertEquals(manifest, Serializers.manifestFor(serializer, event));
    byte[] bytes = serialization.serialize(event).get();
    assertEquals(hex, HexFormat.of().formatHex(bytes), manifest);
    assertEquals(event, serialization.deserialize(bytes, serializer.identifier(), manifest).get());
  }
}
