package com.shrivenquant.local.drill;

import com.shrivenquant.testkit.infra.EtcdCluster;
import com.shrivenquant.testkit.infra.LocalPostgres;
import com.shrivenquant.testkit.infra.TcpProxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The witness both regions' leases live on: three etcd members (the default, as production), or one
 * PostgreSQL server (single-site setups). Region 1 reaches it through proxies, so a drill can cut
 * region 1 off it; region 2 reaches it directly.
 */
abstract class DrillWitness implements AutoCloseable {
  private final List<TcpProxy> fromRegion1 = new ArrayList<>();

  /** {@code etcd} or {@code jdbc}, as {@code --witness} names it. */
  abstract String kind();

  /** The lease settings of a region's nodes. */
  abstract Map<String, String> properties(boolean region1);

  /** The witness's OS processes, for CPU accounting. */
  abstract List<Long> pids();

  /** Region 1 loses every link to the witness (packets dropped, connections hang). */
  void cutRegion1() {
    fromRegion1.forEach(TcpProxy::blackhole);
  }

  void restoreRegion1() {
    fromRegion1.forEach(TcpProxy::restore);
  }

  TcpProxy proxyForRegion1(String name, int port) throws Exception {
    TcpProxy p = TcpProxy.start(name, "127.0.0.1", port);
    fromRegion1.add(p);
    return p;
  }

  @Override
  public void close() {
    for (TcpProxy p : fromRegion1) {
      try {
        p.close();
      } catch (Exception ignored) {
        // best effort
      }
    }
  }

  static DrillWitness start(String kind, Path logs) throws Exception {
    return switch (kind) {
      case "etcd" -> new Etcd(logs);
      case "jdbc" -> new Jdbc(logs);
      default -> throw new IllegalArgumentException("--witness etcd|jdbc: " + kind);
    };
  }

  /** Three etcd members; region 1 has a proxy to each. */
  static final class Etcd extends DrillWitness {
    final EtcdCluster cluster;
    private final String region1Endpoints;

    private Etcd(Path logs) throws Exception {
      cluster = EtcdCluster.builder().logDirectory(logs).start();
      try {
        List<String> viaProxies = new ArrayList<>();
        for (int i = 0; i < cluster.clientUrls().size(); i++) {
          TcpProxy p =
              proxyForRegion1("witness-etcd-" + i + "-from-region-1", cluster.clientPort(i));
          viaProxies.add("http://127.0.0.1:" + p.port());
        }
        region1Endpoints = String.join(",", viaProxies);
      } catch (Exception | Error e) {
        close();
        throw e;
      }
    }

    @Override
    String kind() {
      return "etcd";
    }

    @Override
    Map<String, String> properties(boolean region1) {
      Map<String, String> p = new LinkedHashMap<>();
      p.put("shrivenquant.failover.lease.witness-kind", "etcd");
      p.put(
          "shrivenquant.failover.lease.etcd.endpoints",
          region1 ? region1Endpoints : String.join(",", cluster.clientUrls()));
      return p;
    }

    @Override
    List<Long> pids() {
      List<Long> pids = new ArrayList<>();
      for (int i = 0; i < cluster.clientUrls().size(); i++) {
        if (cluster.isRunning(i)) pids.add(cluster.pid(i));
      }
      return pids;
    }

    @Override
    public void close() {
      super.close();
      cluster.close();
    }
  }

  /** One PostgreSQL server; region 1 reaches it through a proxy. */
  static final class Jdbc extends DrillWitness {
    final LocalPostgres postgres;
    private final String region1Url;
    private final LocalPostgres.Database db;

    private Jdbc(Path logs) throws Exception {
      postgres = LocalPostgres.builder().name("witness").durable(true).logDirectory(logs).start();
      try {
        db = postgres.createDatabase("witness");
        TcpProxy p = proxyForRegion1("witness-from-region-1", postgres.port());
        region1Url = "jdbc:postgresql://127.0.0.1:" + p.port() + "/witness";
      } catch (Exception | Error e) {
        close();
        throw e;
      }
    }

    @Override
    String kind() {
      return "jdbc";
    }

    @Override
    Map<String, String> properties(boolean region1) {
      Map<String, String> p = new LinkedHashMap<>();
      p.put("shrivenquant.failover.lease.witness-kind", "jdbc");
      p.put("shrivenquant.failover.lease.witness.jdbc-url", region1 ? region1Url : db.jdbcUrl());
      p.put("shrivenquant.failover.lease.witness.user", db.user());
      p.put("shrivenquant.failover.lease.witness.password", db.password());
      return p;
    }

    @Override
    List<Long> pids() {
      return List.of(postgres.postmasterPid());
    }

    @Override
    public void close() {
      super.close();
      postgres.close();
    }
  }

  @Override
  public String toString() {
    return kind()
        + " witness ("
        + pids().stream().map(String::valueOf).collect(Collectors.joining(","))
        + ")";
  }
}
