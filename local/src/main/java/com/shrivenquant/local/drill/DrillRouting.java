package com.shrivenquant.local.drill;

import akka.actor.typed.ActorSystem;
import com.shrivenquant.failover.routing.RoutingEndpoint;
import com.shrivenquant.local.dev.LocalClusterLayout;
import com.shrivenquant.testkit.infra.FreePorts;
import com.shrivenquant.testkit.infra.NamedServer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the drill's clients find the active region: through DNS (the default, as production: a real
 * {@code named} holds the order API's name, promotion updates it by RFC 2136 and clients resolve
 * it, honouring its TTL), or through the routing proxy, which forwards every request to the active
 * region.
 */
abstract class DrillRouting implements AutoCloseable {
  /** The drill's zone and the clients' name in it. */
  static final String ZONE = "drill.shrivenquant.test.";

  static final String NAME = "orders." + ZONE;

  /** Short, so the RTO (which includes the clients' cached answer) stays within the target. */
  static final String TTL = "1s";

  abstract String kind();

  /** Where region {@code number}'s nodes serve orders (DNS: one loopback address per node). */
  void place(LocalClusterLayout layout, int number) {}

  /** Starts what clients talk to, once region 1's order API URLs are known. */
  void open(ActorSystem<?> local, String region1OrderApiUrls) throws Exception {}

  /** The routing settings of every node. */
  abstract Map<String, String> properties();

  abstract OrderEndpoint clients();

  @Override
  public abstract void close();

  static DrillRouting start(String kind, Path logs) throws Exception {
    return switch (kind) {
      case "dns" -> new Dns(logs);
      case "proxy" -> new Proxy();
      default -> throw new IllegalArgumentException("--routing dns|proxy: " + kind);
    };
  }

  /** A real named; nodes on 127.0.R.N, one shared port, so address records alone name them. */
  static final class Dns extends DrillRouting {
    final NamedServer named;
    private final int port = FreePorts.freePort();
    private final OrderEndpoint clients;

    private Dns(Path logs) throws Exception {
      named = NamedServer.builder().zone(ZONE).name("dns").logDirectory(logs).start();
      try {
        clients = new DnsOrderEndpoint(named.server(), NAME, port);
      } catch (Exception | Error e) {
        named.close();
        throw e;
      }
    }

    @Override
    String kind() {
      return "dns";
    }

    @Override
    void place(LocalClusterLayout layout, int number) {
      List<String> hosts =
          java.util.stream.IntStream.range(0, layout.size())
              .mapToObj(i -> "127.0." + number + "." + (i + 1))
              .toList();
      layout.httpOn(hosts, port);
    }

    @Override
    Map<String, String> properties() {
      Map<String, String> p = new LinkedHashMap<>();
      p.put("shrivenquant.failover.routing.kind", "dns");
      p.put("shrivenquant.failover.routing.dns.server", named.server());
      p.put("shrivenquant.failover.routing.dns.zone", ZONE);
      p.put("shrivenquant.failover.routing.dns.name", NAME);
      p.put("shrivenquant.failover.routing.dns.ttl", TTL);
      p.put("shrivenquant.failover.routing.dns.tsig-key-name", named.tsigKeyName());
      p.put("shrivenquant.failover.routing.dns.tsig-algorithm", named.tsigAlgorithm());
      p.put("shrivenquant.failover.routing.dns.tsig-secret", named.tsigSecret());
      return p;
    }

    @Override
    OrderEndpoint clients() {
      return clients;
    }

    @Override
    public void close() {
      named.close();
    }
  }

  /** The routing endpoint: an HTTP proxy clients send to, moved by promotion's PUT. */
  static final class Proxy extends DrillRouting {
    private final int port = FreePorts.freePort();
    private RoutingEndpoint endpoint;

    @Override
    String kind() {
      return "proxy";
    }

    @Override
    void open(ActorSystem<?> local, String region1OrderApiUrls) throws Exception {
      endpoint =
          RoutingEndpoint.start(
              local,
              "127.0.0.1",
              port,
              new RoutingEndpoint.Route(DrillEnvironment.R1, 1, region1OrderApiUrls));
    }

    @Override
    Map<String, String> properties() {
      return Map.of(
          "shrivenquant.failover.routing.kind",
          "http",
          "shrivenquant.failover.routing.target",
          "http://127.0.0.1:" + port);
    }

    @Override
    OrderEndpoint clients() {
      return OrderEndpoint.fixed("http://127.0.0.1:" + port);
    }

    @Override
    public void close() {
      if (endpoint != null) endpoint.stop();
    }
  }
}
