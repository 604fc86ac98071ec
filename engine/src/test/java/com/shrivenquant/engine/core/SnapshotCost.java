package com.shrivenquant.engine.core;

import akka.actor.ActorSystem;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import com.typesafe.config.ConfigFactory;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Prints (asserts nothing) what one snapshot of a big instrument costs the instrument's actor,
 * record form ({@link InstrumentEngine#snapshot()}) against binary form ({@link
 * InstrumentEngine#snapshotBytes()}), in one JVM: time, bytes allocated, size once serialized by
 * Akka's jackson-cbor (as the snapshot store does, off the actor), and restore time. Not a test:
 * run it by hand, e.g.
 *
 * <pre>
 * mvn -q -o -pl engine -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java -Xms2g -Xmx2g -XX:+UseG1GC -cp engine/target/test-classes:engine/target/classes:$(cat /tmp/cp.txt) \
 *     com.shrivenquant.engine.core.SnapshotCost [open orders] [retained completed] [runs]
 * </pre>
 */
public final class SnapshotCost {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private SnapshotCost() {}

  public static void main(String[] args) throws Exception {
    int open = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
    int retained = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 15;
    InstrumentEngine engine = build(open, retained);
    System.out.printf(
        "engine: %,d open orders, %,d retained completed orders (bound %,d), %,d positions%n",
        engine.restingOrders().size(),
        engine.completedOrdersInMemory(),
        engine.retainedCompletedOrders(),
        engine.positions().size());

    ActorSystem system = ActorSystem.create("snapshot-cost", ConfigFactory.load());
    try {
      Serialization serialization = SerializationExtension.get(system);
      EngineSnapshot records = engine.snapshot();
      byte[] bytes = engine.snapshotBytes();
      byte[] recordsCbor = serialize(serialization, records);
      byte[] bytesCbor = serialize(serialization, new EngineSnapshotBytes(bytes));
      System.out.printf(
          "size: record form %,d bytes in jackson-cbor; binary form %,d bytes, %,d in jackson-cbor%n",
          recordsCbor.length, bytes.length, bytesCbor.length);
      EngineSnapshot decodedRecords =
          (EngineSnapshot) deserialize(serialization, records, recordsCbor);
      EngineSnapshotBytes decodedBytes =
          (EngineSnapshotBytes)
              deserialize(serialization, new EngineSnapshotBytes(bytes), bytesCbor);
      check(engine, InstrumentEngine.restore(decodedRecords, 10_000, engine.limits(), retained));
      check(
          engine,
          InstrumentEngine.restoreBytes(decodedBytes.data(), 10_000, engine.limits(), retained));

      System.out.println("on the actor (what delays orders):");
      measure("  snapshot()        record graph", runs, engine::snapshot);
      measure("  snapshotBytes()   byte array", runs, engine::snapshotBytes);
      measure("  stateDigest()     sha-256 of the bytes", runs, engine::stateDigest);
      System.out.println("in the snapshot store (jackson-cbor, off the actor):");
      measure("  serialize record form", runs, () -> serialize(serialization, records));
      measure(
          "  serialize binary form",
          runs,
          () -> serialize(serialization, new EngineSnapshotBytes(bytes)));
      System.out.println("recovery:");
      measure(
          "  deserialize + restore(records)",
          runs,
          () ->
              InstrumentEngine.restore(
                  (EngineSnapshot) deserialize(serialization, records, recordsCbor),
                  10_000,
                  engine.limits(),
                  retained));
      measure(
          "  deserialize + restoreBytes()",
          runs,
          () ->
              InstrumentEngine.restoreBytes(
                  ((EngineSnapshotBytes)
                          deserialize(serialization, new EngineSnapshotBytes(bytes), bytesCbor))
                      .data(),
                  10_000,
                  engine.limits(),
                  retained));
    } finally {
      system.terminate();
    }
  }

  /**
   * 100 accounts, UUID clientOrderIds. Rests open + retained / 2 + 1,000 limit orders far from each
   * other, then lets IOC takers fill one maker each until the retained window is full (with some
   * price-band rejections among them), leaving about open resting.
   */
  static InstrumentEngine build(int open, int retained) {
    RiskLimits limits =
        new RiskLimits(1_000_000, Long.MAX_VALUE, 1_000, Long.MAX_VALUE / 4, 1_000_000);
    InstrumentEngine e = new InstrumentEngine("BENCH-USD", 10_000, limits, retained);
    Random rnd = new Random(42);
    int takers = retained / 2 + 500;
    int makers = open + takers;
    for (int i = 0; i < makers; i++) {
      boolean bid = i % 2 == 0;
      long price = bid ? 9_999 - rnd.nextInt(900) : 10_001 + rnd.nextInt(900);
      e.place(
          OrderRequest.limit(
              account(rnd), cid(rnd), bid ? Side.BUY : Side.SELL, price, 10, TimeInForce.GTC));
    }
    for (int i = 0; i < takers; i++) {
      if (i % 20 == 0) { // outside the band: rejected
        e.place(OrderRequest.limit(account(rnd), cid(rnd), Side.BUY, 50_000, 1, TimeInForce.GTC));
        continue;
      }
      boolean buy = i % 2 == 0;
      long price = buy ? e.bestAsk().orElseThrow() : e.bestBid().orElseThrow();
      e.place(
          OrderRequest.limit(
              account(rnd), cid(rnd), buy ? Side.BUY : Side.SELL, price, 10, TimeInForce.IOC));
    }
    return e;
  }

  private static String account(Random rnd) {
    return "ACC" + (100_000 + rnd.nextInt(100));
  }

  private static String cid(Random rnd) {
    return new UUID(rnd.nextLong(), rnd.nextLong()).toString();
  }

  private static void check(InstrumentEngine expected, InstrumentEngine restored) {
    if (!expected.stateDigest().equals(restored.stateDigest()))
      throw new AssertionError("restore changed the state");
  }

  private static byte[] serialize(Serialization serialization, Object o) {
    return serialization.findSerializerFor(o).toBinary(o);
  }

  private static Object deserialize(Serialization serialization, Object example, byte[] data) {
    Serializer s = serialization.findSerializerFor(example);
    return serialization
        .deserialize(data, s.identifier(), Serializers.manifestFor(s, example))
        .get();
  }

  private static volatile Object sink;

  private static void measure(String what, int runs, Supplier<?> action) {
    for (int i = 0; i < 3; i++) sink = action.get(); // warm-up
    double[] ms = new double[runs];
    long allocated = 0;
    for (int i = 0; i < runs; i++) {
      System.gc();
      long a0 = THREADS.getCurrentThreadAllocatedBytes();
      long t0 = System.nanoTime();
      sink = action.get();
      ms[i] = (System.nanoTime() - t0) / 1e6;
      allocated += THREADS.getCurrentThreadAllocatedBytes() - a0;
      sink = null;
    }
    Arrays.sort(ms);
    System.out.printf(
        "%-48s median %8.2f ms  min %8.2f  max %8.2f  allocated %7.1f MB/call%n",
        what, ms[runs / 2], ms[0], ms[runs - 1], allocated / (double) runs / (1 << 20));
  }
}
