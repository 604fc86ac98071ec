package com.shrivenquant.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * The JVM flags a node runs with. Dev mode and the benchmarks start nodes with {@link #options};
 * the container image's entrypoint (cluster/pom.xml, Jib) sets the same {@link #COLLECTOR} flags
 * with a heap sized from the memory limit, and ContainerImageIT checks that the two agree.
 *
 * <p>Why these (measured side by side, docs/BENCHMARKS.md "Which collector"): every order stays in
 * memory for a long time (the idempotency window keeps the last 20,000 per instrument), so the
 * young collections' usual bet, that survivors die soon, is wrong here; G1 copied the same retained
 * orders between survivor spaces up to 15 times, and that copying was most of each pause. Promoting
 * after one survival copies each order once. A 20 ms pause goal keeps the young generation small
 * enough that one pause stays short. A fixed heap (initial = maximum) keeps G1 from starting small
 * and collecting often while it grows.
 */
public final class NodeJvm {
  public static final List<String> COLLECTOR =
      List.of("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:MaxTenuringThreshold=1");

  /** A node's options with a fixed heap of {@code heap} (a -Xmx value such as {@code 2g}). */
  public static List<String> options(String heap) {
    return options(heap, COLLECTOR);
  }

  /** The same with other collector flags (benchmarks comparing collectors). */
  public static List<String> options(String heap, List<String> collector) {
    List<String> options =
        new ArrayList<>(List.of("-Xms" + heap, "-Xmx" + heap, "-XX:+AlwaysPreTouch"));
    options.addAll(collector);
    return options;
  }

  private NodeJvm() {}
}
