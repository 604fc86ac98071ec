package com.shrivenquant.replication.journal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * A journal row as a Kafka record: key = persistence id, value = the event's original bytes, every
 * other column (and the writer's epoch) in headers. No envelope to decode, and the payload is
 * byte-identical by construction.
 */
public final class RecordCodec {
  static final String SEQ = "sq-seq";
  static final String ORDERING = "sq-ordering";
  static final String EPOCH = "sq-epoch";
  static final String DELETED = "sq-deleted";
  static final String WRITER = "sq-writer";
  static final String TIMESTAMP = "sq-ts";
  static final String ADAPTER_MANIFEST = "sq-adapter-manifest";
  static final String SER_ID = "sq-ser-id";
  static final String SER_MANIFEST = "sq-ser-manifest";
  static final String META_SER_ID = "sq-meta-ser-id";
  static final String META_SER_MANIFEST = "sq-meta-ser-manifest";
  static final String META_PAYLOAD = "sq-meta-payload";
  static final String TAG = "sq-tag";

  private RecordCodec() {}

  public static ProducerRecord<String, byte[]> toRecord(String topic, JournalRow row, long epoch) {
    Headers h = new org.apache.kafka.common.header.internals.RecordHeaders();
    h.add(SEQ, longBytes(row.sequenceNumber()));
    h.add(ORDERING, longBytes(row.ordering()));
    h.add(EPOCH, longBytes(epoch));
    h.add(DELETED, new byte[] {(byte) (row.deleted() ? 1 : 0)});
    h.add(WRITER, utf8(row.writer()));
    h.add(TIMESTAMP, longBytes(row.writeTimestamp()));
    h.add(SER_ID, longBytes(row.serId()));
    h.add(SER_MANIFEST, utf8(row.serManifest()));
    if (row.adapterManifest() != null) h.add(ADAPTER_MANIFEST, utf8(row.adapterManifest()));
    if (row.metaSerId() != null) h.add(META_SER_ID, longBytes(row.metaSerId()));
    if (row.metaSerManifest() != null) h.add(META_SER_MANIFEST, utf8(row.metaSerManifest()));
    if (row.metaPayload() != null) h.add(META_PAYLOAD, row.metaPayload());
    for (String tag : row.tags()) h.add(TAG, utf8(tag));
    return new ProducerRecord<>(topic, null, row.persistenceId(), row.payload(), h);
  }

  /** The row as the active region wrote it (its ordering there) and the writer's epoch. */
  public record Received(JournalRow row, long epoch) {}

  public static Received fromRecord(ConsumerRecord<String, byte[]> r) {
    Headers h = r.headers();
    List<String> tags = new ArrayList<>();
    for (Header t : h.headers(TAG)) tags.add(new String(t.value(), StandardCharsets.UTF_8));
    Header metaSerId = h.lastHeader(META_SER_ID);
    JournalRow row =
        new JournalRow(
            longOf(h, ORDERING),
            r.key(),
            longOf(h, SEQ),
            h.lastHeader(DELETED).value()[0] == 1,
            str(h, WRITER),
            longOf(h, TIMESTAMP),
            str(h, ADAPTER_MANIFEST),
            (int) longOf(h, SER_ID),
            str(h, SER_MANIFEST),
            r.value(),
            metaSerId == null ? null : (int) ByteBuffer.wrap(metaSerId.value()).getLong(),
            str(h, META_SER_MANIFEST),
            h.lastHeader(META_PAYLOAD) == null ? null : h.lastHeader(META_PAYLOAD).value(),
            tags);
    return new Received(row, longOf(h, EPOCH));
  }

  /** The journal write time in the active region, without decoding the rest. */
  public static long writeTimestamp(ConsumerRecord<String, byte[]> r) {
    return longOf(r.headers(), TIMESTAMP);
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static long longOf(Headers h, String key) {
    Header header = h.lastHeader(key);
    if (header == null) throw new IllegalArgumentException("record lacks header " + key);
    return ByteBuffer.wrap(header.value()).getLong();
  }

  private static String str(Headers h, String key) {
    Header header = h.lastHeader(key);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  static boolean sameBytes(byte[] a, byte[] b) {
    return Arrays.equals(a, b);
  }
}
