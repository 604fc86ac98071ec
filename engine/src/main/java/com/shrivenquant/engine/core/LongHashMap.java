package com.shrivenquant.engine.core;

/**
 * Open-addressing long -> V map: no boxed keys and no entry objects on the order path. Linear
 * probing with backward-shift deletion, so there are no tombstones to clean up.
 */
final class LongHashMap<V> {
  private long[] keys;
  private Object[] values;
  private int mask;
  private int size;
  private int resizeAt;

  LongHashMap(int expected) {
    int cap = Integer.highestOneBit(Math.max(16, expected * 2) - 1) << 1;
    allocate(cap);
  }

  private void allocate(int cap) {
    keys = new long[cap];
    values = new Object[cap];
    mask = cap - 1;
    resizeAt = (int) (cap * 0.6);
  }

  private static int hash(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }

  int size() {
    return size;
  }

  @SuppressWarnings("unchecked")
  V get(long key) {
    int i = hash(key) & mask;
    while (true) {
      Object v = values[i];
      if (v == null) return null;
      if (keys[i] == key) return (V) v;
      i = (i + 1) & mask;
    }
  }

  boolean containsKey(long key) {
    return get(key) != null;
  }

  /**
   * @return the previous value, or null
   */
  @SuppressWarnings("unchecked")
  V put(long key, V value) {
    if (value == null) throw new IllegalArgumentException("null value");
    int i = hash(key) & mask;
    while (true) {
      Object v = values[i];
      if (v == null) break;
      if (keys[i] == key) {
        values[i] = value;
        return (V) v;
      }
      i = (i + 1) & mask;
    }
    keys[i] = key;
    values[i] = value;
    if (++size > resizeAt) rehash();
    return null;
  }

  @SuppressWarnings("unchecked")
  V remove(long key) {
    int i = hash(key) & mask;
    while (true) {
      Object v = values[i];
      if (v == null) return null;
      if (keys[i] == key) break;
      i = (i + 1) & mask;
    }
    V old = (V) values[i];
    int gap = i;
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      if (values[j] == null) break;
      int home = hash(keys[j]) & mask;
      // Move j back into the gap only if its probe path passes through the gap.
      if (((j - home) & mask) >= ((j - gap) & mask)) {
        keys[gap] = keys[j];
        values[gap] = values[j];
        gap = j;
      }
    }
    values[gap] = null;
    size--;
    return old;
  }

  private void rehash() {
    long[] oldKeys = keys;
    Object[] oldValues = values;
    allocate(oldKeys.length * 2);
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldValues[i] != null) put(oldKeys[i], cast(oldValues[i]));
    }
  }

  @SuppressWarnings("unchecked")
  private V cast(Object o) {
    return (V) o;
  }
}
