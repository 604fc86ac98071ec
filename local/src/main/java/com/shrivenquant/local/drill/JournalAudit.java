package com.shrivenquant.local.drill;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import com.shrivenquant.engine.core.OrderRequest;
import com.shrivenquant.engine.instrument.InstrumentEntity;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Reads a region's journal back as the engine's events and checks the drill client's record of
 * acknowledgements against it: every acknowledged order must be there (else it was lost) and no
 * order may be there twice (else it executed twice).
 */
final class JournalAudit {
  record Result(
      int acknowledged,
      int lost,
      int executedTwice,
      long ordersInJournal,
      List<String> lostIds,
      List<String> twiceIds) {}

  private JournalAudit() {}

  static Result check(ActorSystem<?> system, DataSource journal, List<DrillClient.Ack> acks)
      throws Exception {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(system));
    Map<String, Integer> seen = new HashMap<>();
    try (Connection c = journal.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT event_payload, event_ser_id, event_ser_manifest FROM event_journal"
                    + " WHERE persistence_id LIKE 'Instrument|%'")) {
      ps.setFetchSize(5000);
      c.setAutoCommit(false);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Object event =
              serialization.deserialize(rs.getBytes(1), rs.getInt(2), rs.getString(3)).get();
          OrderRequest r = null;
          if (event instanceof InstrumentEntity.OrderAccepted a) r = a.request();
          else if (event instanceof InstrumentEntity.OrderRejected x) r = x.request();
          if (r != null) seen.merge(r.account() + "/" + r.clientOrderId(), 1, Integer::sum);
        }
      }
    }
    List<String> lost = new java.util.ArrayList<>();
    for (DrillClient.Ack a : acks) {
      if (!seen.containsKey(a.account() + "/" + a.clientOrderId()))
        lost.add(a.clientOrderId() + "@" + a.region());
    }
    List<String> twice =
        seen.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
    long orders = seen.size();
    return new Result(
        acks.size(),
        lost.size(),
        twice.size(),
        orders,
        lost.size() > 20 ? lost.subList(0, 20) : lost,
        twice.size() > 20 ? twice.subList(0, 20) : twice);
  }
}
