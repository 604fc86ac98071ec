package com.shrivenquant.engine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LongHashMapTest {

  @Test
  void behavesLikeHashMapThroughCollisionsRemovalsAndGrowth() {
    for (long seed = 0; seed < 10; seed++) {
      Random rnd = new Random(seed);
      LongHashMap<Long> map = new LongHashMap<>(1);
      Map<Long, Long> ref = new HashMap<>();
      // A small key range forces long probe chains and many backward shifts.
      long range = 8 + rnd.nextInt(3000);
      for (int i = 0; i < 20_000; i++) {
        long key = rnd.nextInt(3) == 0 ? rnd.nextLong() : rnd.nextLong(range) - range / 2;
        long value = rnd.nextLong();
        switch (rnd.nextInt(3)) {
          case 0 -> assertEquals(ref.put(key, value), map.put(key, value));
          case 1 -> assertEquals(ref.remove(key), map.remove(key));
          default -> assertEquals(ref.get(key), map.get(key));
        }
        assertEquals(ref.size(), map.size());
      }
      for (Map.Entry<Long, Long> e : ref.entrySet())
        assertEquals(e.getValue(), map.get(e.getKey()));
    }
  }
}
