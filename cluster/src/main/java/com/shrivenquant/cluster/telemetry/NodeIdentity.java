package com.shrivenquant.cluster.telemetry;

/**
 * Who is logging: the node's region and name (fixed per process) and the region's epoch, which
 * grows at each promotion. Process-wide, so that every log line carries it, Akka's own included; in
 * a JVM that runs several test nodes the last one started names them all.
 */
public final class NodeIdentity {
  private static volatile String region = "";
  private static volatile String node = "";
  private static volatile long epoch;

  private NodeIdentity() {}

  static void set(String regionName, String nodeName) {
    region = regionName;
    node = nodeName;
  }

  static void epoch(long value) {
    epoch = value;
  }

  public static String region() {
    return region;
  }

  public static String node() {
    return node;
  }

  /** 0 until the region's role is known (always 0 with failover off). */
  public static long epoch() {
    return epoch;
  }
}
