package com.shrivenquant.failover.notify;

import com.shrivenquant.failover.verify.ConsistencyReport;
import java.util.List;
import java.util.Map;

/**
 * One failover, switchover or failback, as the JSON document that is stored, logged and sent to the
 * webhook. Times are epoch milliseconds of the promoting node's clock.
 *
 * @param kind promotion (unplanned), switchover (planned) or failback
 * @param steps in order: name -> completed at (epoch ms)
 */
public record Incident(
    String kind,
    String region,
    String previousRegion,
    long fromEpoch,
    long toEpoch,
    long decidedAt,
    Map<String, Object> evidence,
    List<Step> steps,
    String routing,
    ConsistencyReport.Verdict verdict,
    int eventsLost,
    String summary) {

  public record Step(String name, long at, long tookMillis) {}

  public long stepAt(String name) {
    return steps.stream()
        .filter(s -> s.name().equals(name))
        .mapToLong(Step::at)
        .findFirst()
        .orElse(-1);
  }
}
