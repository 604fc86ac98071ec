package com.shrivenquant.engine.core;

import java.nio.charset.StandardCharsets;

/**
 * Reads what {@link ByteWriter} wrote. Every malformed input (truncated, an overlong varint, a
 * count larger than the bytes left could hold, bad string bytes) is an {@link
 * IllegalArgumentException} naming the offset, never an unchecked index error or a huge allocation.
 */
final class ByteReader {
  private final byte[] buf;
  private int pos;

  ByteReader(byte[] data) {
    this.buf = data;
  }

  int position() {
    return pos;
  }

  int int32() {
    need(4);
    int v =
        ((buf[pos] & 0xFF) << 24)
            | ((buf[pos + 1] & 0xFF) << 16)
            | ((buf[pos + 2] & 0xFF) << 8)
            | (buf[pos + 3] & 0xFF);
    pos += 4;
    return v;
  }

  /** One byte, 0..255. */
  int byte1() {
    need(1);
    return buf[pos++] & 0xFF;
  }

  long uvarint() {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      int b = buf[pos++];
      if (shift == 63 && (b & 0xFE) != 0) throw corrupt("varint longer than 64 bits");
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) return v;
    }
    throw corrupt("varint longer than 64 bits");
  }

  long svarint() {
    long z = uvarint();
    return (z >>> 1) ^ -(z & 1);
  }

  /** A varint element count, each element taking at least minBytesEach of what is left. */
  int count(int minBytesEach) {
    long n = uvarint();
    if (n < 0 || n > (buf.length - pos) / minBytesEach)
      throw corrupt("count " + n + " exceeds the data left");
    return (int) n;
  }

  /** A varint that must fit in an int (>= 0). */
  int uint() {
    long v = uvarint();
    if (v < 0 || v > Integer.MAX_VALUE) throw corrupt("value " + v + " out of int range");
    return (int) v;
  }

  String string() {
    int len = count(1);
    int start = pos;
    int end = start + len;
    boolean ascii = true;
    for (int i = start; i < end; i++) {
      if (buf[i] < 0) {
        ascii = false;
        break;
      }
    }
    pos = end;
    if (ascii) return new String(buf, start, len, StandardCharsets.ISO_8859_1);
    return decode(start, end);
  }

  /** UTF-8 plus three-byte surrogates (see {@link ByteWriter}); shortest forms only. */
  private String decode(int start, int end) {
    char[] out = new char[end - start];
    int n = 0;
    int i = start;
    while (i < end) {
      int b = buf[i] & 0xFF;
      if (b < 0x80) {
        out[n++] = (char) b;
        i++;
      } else if (b >= 0xC2 && b < 0xE0) {
        int c = (b & 0x1F) << 6 | cont(i + 1, end);
        out[n++] = (char) c;
        i += 2;
      } else if (b >= 0xE0 && b < 0xF0) {
        int c = (b & 0x0F) << 12 | cont(i + 1, end) << 6 | cont(i + 2, end);
        if (c < 0x800) throw corruptAt(i, "overlong string byte sequence");
        out[n++] = (char) c;
        i += 3;
      } else if (b >= 0xF0 && b < 0xF5) {
        int cp =
            (b & 0x07) << 18 | cont(i + 1, end) << 12 | cont(i + 2, end) << 6 | cont(i + 3, end);
        if (cp < 0x10000 || cp > Character.MAX_CODE_POINT) throw corruptAt(i, "bad code point");
        out[n++] = Character.highSurrogate(cp);
        out[n++] = Character.lowSurrogate(cp);
        i += 4;
      } else {
        throw corruptAt(i, "bad string byte " + b);
      }
    }
    return new String(out, 0, n);
  }

  private int cont(int i, int end) {
    if (i >= end) throw corruptAt(i, "truncated string byte sequence");
    int b = buf[i] & 0xFF;
    if ((b & 0xC0) != 0x80) throw corruptAt(i, "bad string continuation byte " + b);
    return b & 0x3F;
  }

  void expectEnd() {
    if (pos != buf.length)
      throw corrupt((buf.length - pos) + " bytes after the end of the snapshot");
  }

  IllegalArgumentException corrupt(String what) {
    return corruptAt(pos, what);
  }

  private static IllegalArgumentException corruptAt(int offset, String what) {
    return new IllegalArgumentException("corrupt binary snapshot at byte " + offset + ": " + what);
  }

  private void need(int n) {
    if (buf.length - pos < n) throw corrupt("truncated");
  }
}
