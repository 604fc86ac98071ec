package com.shrivenquant.failover;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Failover's configuration, read in one place from {@code shrivenquant.failover}. */
public record FailoverSettings(
    boolean enabled,
    String region,
    String peerRegion,
    String initialActiveRegion,
    Lease lease,
    String witnessKind,
    Jdbc witness,
    Etcd etcdWitness,
    Optional<Jdbc> peerJournal,
    Duration watcherPollInterval,
    Duration pauseBudget,
    List<String> peerHealthUrls,
    Duration drainTimeout,
    String bootstrapServers,
    String topicPrefix,
    int partitions,
    short replicationFactor,
    Durability durability,
    SyncAck syncAck,
    String routingKind,
    String routingTarget,
    String orderApiUrl,
    Duration routingRetryInterval,
    Dns dns,
    String webhookUrl,
    int notifyAttempts,
    Duration notifyFirstBackoff) {

  public enum Durability {
    ASYNC,
    SYNC
  }

  /**
   * {@code sync} acknowledgements: how often the publisher repeats its latest durable position,
   * after how long a waiting ack also reads the stored one, and when it gives up.
   */
  public record SyncAck(Duration republishInterval, Duration fallbackAfter, Duration timeout) {}

  public record Lease(
      Duration ttl,
      Duration renewInterval,
      Duration fenceMargin,
      double maxClockDrift,
      Duration callTimeout) {}

  public record Jdbc(String url, String user, String password) {}

  /** The witness kinds of {@code lease.witness-kind}. */
  public static final String WITNESS_JDBC = "jdbc";

  public static final String WITNESS_ETCD = "etcd";

  /**
   * An etcd witness cluster: the members' client URLs and the key prefix of the lease's keys.
   *
   * @param prefix ends with {@code /}
   */
  public record Etcd(List<String> endpoints, String prefix) {
    public Etcd {
      if (endpoints.isEmpty()) throw new IllegalArgumentException("lease.etcd.endpoints is empty");
      endpoints = List.copyOf(endpoints);
      prefix = prefix.endsWith("/") ? prefix : prefix + "/";
    }
  }

  /**
   * {@code routing.kind = dns}: where and how the RFC 2136 updates go.
   *
   * @param server host:port of the zone's authoritative server
   * @param name the order API's name clients resolve, absolute
   * @param tsigSecret base64
   * @param timeout deadline of one whole route call
   */
  public record Dns(
      String server,
      String zone,
      String name,
      Duration ttl,
      String tsigKeyName,
      String tsigAlgorithm,
      String tsigSecret,
      Duration timeout) {

    @Override
    public String toString() {
      // never log the secret
      return "Dns[server=%s, zone=%s, name=%s, ttl=%s, tsigKeyName=%s, tsigAlgorithm=%s, timeout=%s]"
          .formatted(server, zone, name, ttl, tsigKeyName, tsigAlgorithm, timeout);
    }
  }

  private static Dns dns(Config d) {
    return new Dns(
        d.getString("server"),
        d.getString("zone"),
        d.getString("name"),
        d.getDuration("ttl"),
        d.getString("tsig-key-name"),
        d.getString("tsig-algorithm"),
        d.getString("tsig-secret"),
        d.getDuration("timeout"));
  }

  /**
   * @param region this node's region (the node's own setting, {@code shrivenquant.node.region})
   */
  public static FailoverSettings fromConfig(Config root, String region) {
    Config c = root.getConfig("shrivenquant.failover");
    Config l = c.getConfig("lease");
    Lease lease =
        new Lease(
            l.getDuration("ttl"),
            l.getDuration("renew-interval"),
            l.getDuration("fence-margin"),
            l.getDouble("max-clock-drift"),
            l.getDuration("call-timeout"));
    double rho = lease.maxClockDrift();
    if (lease.fenceMargin().toNanos() * (1 + rho) >= lease.ttl().toNanos() * (1 - rho)) {
      throw new IllegalArgumentException(
          "lease.fence-margin * (1 + drift) must stay below"
              + " lease.ttl * (1 - drift): a node could accept orders after the standby took the lease");
    }
    Duration pause = c.getDuration("watcher.pause-budget");
    if (pause.compareTo(lease.ttl().minus(lease.renewInterval())) > 0) {
      throw new IllegalArgumentException(
          "watcher.pause-budget must be <= lease.ttl - lease.renew-interval");
    }
    String witnessKind = l.getString("witness-kind");
    if (!witnessKind.equals(WITNESS_JDBC) && !witnessKind.equals(WITNESS_ETCD)) {
      throw new IllegalArgumentException("lease.witness-kind must be jdbc or etcd: " + witnessKind);
    }
    Config pj = c.getConfig("peer-journal");
    Optional<Jdbc> peer =
        pj.getString("jdbc-url").isBlank()
            ? Optional.empty()
            : Optional.of(
                new Jdbc(pj.getString("jdbc-url"), pj.getString("user"), pj.getString("password")));
    String peerRegion = c.getString("peer-region");
    if (peerRegion.equals(region))
      throw new IllegalArgumentException("peer-region equals region " + region);
    return new FailoverSettings(
        c.getBoolean("enabled"),
        region,
        peerRegion,
        c.getString("initial-active-region"),
        lease,
        witnessKind,
        new Jdbc(
            l.getString("witness.jdbc-url"),
            l.getString("witness.user"),
            l.getString("witness.password")),
        new Etcd(split(l.getString("etcd.endpoints")), l.getString("etcd.prefix")),
        peer,
        c.getDuration("watcher.poll-interval"),
        pause,
        split(c.getString("watcher.peer-health-urls")),
        c.getDuration("promotion.drain-timeout"),
        c.getString("replication.bootstrap-servers"),
        c.getString("replication.topic-prefix"),
        c.getInt("replication.partitions"),
        (short) c.getInt("replication.replication-factor"),
        Durability.valueOf(c.getString("replication.durability").toUpperCase()),
        new SyncAck(
            c.getDuration("replication.sync-ack.republish-interval"),
            c.getDuration("replication.sync-ack.fallback-after"),
            c.getDuration("replication.sync-ack.timeout")),
        c.getString("routing.kind"),
        c.getString("routing.target"),
        c.getString("routing.order-api-url"),
        c.getDuration("routing.retry-interval"),
        dns(c.getConfig("routing.dns")),
        c.getString("notify.webhook-url"),
        c.getInt("notify.attempts"),
        c.getDuration("notify.first-backoff"));
  }

  /** The topic a region publishes its journal to. */
  public String topicOf(String someRegion) {
    return topicPrefix + someRegion;
  }

  private static List<String> split(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}
