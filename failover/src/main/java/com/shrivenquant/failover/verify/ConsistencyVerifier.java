package com.shrivenquant.failover.verify;

import com.shrivenquant.failover.verify.ConsistencyReport.LostEvent;
import com.shrivenquant.failover.verify.ConsistencyReport.Verdict;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs after every promotion: per entity, sequence numbers contiguous here; everything the old
 * primary published is here; where the old primary's journal is readable, every event it holds
 * beyond what this region started from is listed (the RPO), and the common part is byte-identical
 * on both sides.
 */
public final class ConsistencyVerifier {
  private static final Logger log = LoggerFactory.getLogger(ConsistencyVerifier.class);

  private ConsistencyVerifier() {}

  /**
   * @param prefix per entity, the last sequence number this region held when it was promoted
   * @param published per entity, the last sequence number the old primary published
   */
  public static ConsistencyReport verify(
      long epoch,
      String region,
      String previousRegion,
      Map<String, Long> prefix,
      Map<String, Long> published,
      DataSource mine,
      Optional<DataSource> peer)
      throws SQLException {
    long start = System.currentTimeMillis();
    Map<String, JournalDigests.Range> ranges = JournalDigests.ranges(mine);
    List<String> gaps = new ArrayList<>();
    long events = 0;
    for (Map.Entry<String, JournalDigests.Range> e : ranges.entrySet()) {
      events += e.getValue().count();
      if (!e.getValue().contiguous()) gaps.add(e.getKey() + " " + e.getValue());
    }
    List<String> missing = new ArrayList<>();
    published.forEach(
        (pid, seq) -> {
          long have = prefix.getOrDefault(pid, 0L);
          if (seq > have) missing.add(pid + ": published up to " + seq + ", applied up to " + have);
        });
    boolean peerReadable = false;
    List<LostEvent> lost = List.of();
    List<String> mismatches = new ArrayList<>();
    if (peer.isPresent()) {
      try {
        lost = JournalDigests.beyond(peer.get(), prefix);
        Map<String, String> theirs = JournalDigests.digestsUpTo(peer.get(), prefix);
        Map<String, String> ours = JournalDigests.digestsUpTo(mine, prefix);
        for (Map.Entry<String, String> e : ours.entrySet()) {
          if (!e.getValue().equals(theirs.get(e.getKey()))) mismatches.add(e.getKey());
        }
        peerReadable = true;
      } catch (SQLException | RuntimeException e) {
        log.warn("Peer journal not readable for the consistency check: {}", e.getMessage());
      }
    }
    Verdict verdict =
        !gaps.isEmpty() || !missing.isEmpty() || !mismatches.isEmpty()
            ? Verdict.INCONSISTENT
            : lost.isEmpty() ? Verdict.CONSISTENT : Verdict.EVENTS_LOST;
    return new ConsistencyReport(
        epoch,
        region,
        previousRegion,
        verdict,
        ranges.size(),
        events,
        gaps,
        missing,
        peerReadable,
        lost,
        mismatches,
        System.currentTimeMillis() - start);
  }
}
