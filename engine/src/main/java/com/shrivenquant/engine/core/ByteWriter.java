package com.shrivenquant.engine.core;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * A growable byte buffer with the primitives of the engine's binary snapshot format: big-endian
 * int32, single bytes, LEB128 varints and length-prefixed strings. No streams, no locks, no
 * per-value allocation (except for strings that are not ASCII). {@link ByteReader} reads it back.
 *
 * <p>Strings are UTF-8, except that an unpaired surrogate (which UTF-8 cannot represent, and a Java
 * string may hold) is written as its own three-byte sequence, as WTF-8 does: well-formed strings
 * get exactly their UTF-8 bytes, and every string round-trips exactly.
 */
final class ByteWriter {
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

  private byte[] buf;
  private int pos;

  ByteWriter(int initialCapacity) {
    buf = new byte[Math.max(64, initialCapacity)];
  }

  /** Bytes written so far. */
  int size() {
    return pos;
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, pos);
  }

  /** Feeds the bytes written so far to a digest, without copying them. */
  void digestInto(MessageDigest digest) {
    digest.update(buf, 0, pos);
  }

  void int32(int v) {
    ensure(4);
    buf[pos] = (byte) (v >>> 24);
    buf[pos + 1] = (byte) (v >>> 16);
    buf[pos + 2] = (byte) (v >>> 8);
    buf[pos + 3] = (byte) v;
    pos += 4;
  }

  void byte1(int v) {
    ensure(1);
    buf[pos++] = (byte) v;
  }

  /** Unsigned LEB128: 7 bits a byte, low bits first. Any long; a negative one takes 10 bytes. */
  void uvarint(long v) {
    ensure(10);
    while ((v & ~0x7FL) != 0) {
      buf[pos++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[pos++] = (byte) v;
  }

  /** Zigzag then LEB128: small magnitudes of either sign are short. */
  void svarint(long v) {
    uvarint((v << 1) ^ (v >> 63));
  }

  /** Byte length as a varint, then the bytes (see the class comment). */
  void string(String s) {
    int n = s.length();
    int ascii = 0;
    while (ascii < n && s.charAt(ascii) < 0x80) ascii++;
    if (ascii == n) {
      uvarint(n);
      ensure(n);
      for (int i = 0; i < n; i++) buf[pos + i] = (byte) s.charAt(i);
      pos += n;
      return;
    }
    long len = encodedLength(s);
    ensure(10 + len);
    uvarint(len);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        buf[pos++] = (byte) c;
      } else if (c < 0x800) {
        buf[pos++] = (byte) (0xC0 | (c >> 6));
        buf[pos++] = (byte) (0x80 | (c & 0x3F));
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, s.charAt(++i));
        buf[pos++] = (byte) (0xF0 | (cp >> 18));
        buf[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        buf[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        buf[pos++] = (byte) (0x80 | (cp & 0x3F));
      } else { // BMP, or an unpaired surrogate
        buf[pos++] = (byte) (0xE0 | (c >> 12));
        buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        buf[pos++] = (byte) (0x80 | (c & 0x3F));
      }
    }
  }

  private static long encodedLength(String s) {
    int n = s.length();
    long len = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        len += 1;
      } else if (c < 0x800) {
        len += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        len += 4;
        i++;
      } else {
        len += 3;
      }
    }
    return len;
  }

  private void ensure(long n) {
    if (pos + n <= buf.length) return;
    long needed = pos + n;
    if (needed > MAX_ARRAY)
      throw new IllegalStateException("snapshot larger than a byte array: " + needed + " bytes");
    buf = Arrays.copyOf(buf, (int) Math.min(MAX_ARRAY, Math.max(needed, 2L * buf.length)));
  }
}
