package com.shrivenquant.local.dev;

import com.shrivenquant.cluster.ops.OperatorRole;
import com.shrivenquant.cluster.ops.TokenStore;
import com.shrivenquant.testkit.infra.FreePorts;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * N nodes of one region on this machine: their ports and the settings each needs, as system
 * properties for a child JVM or as a Config for an in-JVM node. Used by dev mode and tests.
 */
public final class LocalClusterLayout {

  public record NodePorts(int akka, int management, int http, int metrics) {}

  /** Where the region's journal lives. */
  public record Journal(String jdbcUrl, String user, String password) {}

  private final List<NodePorts> nodes;
  private final Journal journal;
  private final Map<String, String> extra = new LinkedHashMap<>();
  // Order API addresses: 127.0.0.1 and each node's own port, unless httpOn gave them.
  private List<String> httpHosts;
  private int sharedHttpPort;
  // The tools and tests driving these nodes call the operator API with it; the nodes get its hash.
  private final String operatorToken = TokenStore.generate();

  private LocalClusterLayout(List<NodePorts> nodes, Journal journal) {
    this.nodes = nodes;
    this.journal = journal;
  }

  public static LocalClusterLayout allocate(int count, Journal journal) {
    List<Integer> ports = FreePorts.freePorts(count * 4);
    List<NodePorts> nodes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      nodes.add(
          new NodePorts(
              ports.get(4 * i), ports.get(4 * i + 1), ports.get(4 * i + 2), ports.get(4 * i + 3)));
    }
    return new LocalClusterLayout(nodes, journal);
  }

  /** A setting every node gets (e.g. a smaller synthetic-instrument count in a test). */
  public LocalClusterLayout with(String key, String value) {
    extra.put(key, value);
    return this;
  }

  /**
   * Binds node i's order API to {@code hosts.get(i)} (a loopback address such as 127.0.1.1) on one
   * shared port, so the region can be named by address records alone, as behind DNS.
   */
  public LocalClusterLayout httpOn(List<String> hosts, int port) {
    if (hosts.size() != nodes.size())
      throw new IllegalArgumentException(nodes.size() + " nodes, " + hosts.size() + " hosts");
    this.httpHosts = List.copyOf(hosts);
    this.sharedHttpPort = port;
    return this;
  }

  public int size() {
    return nodes.size();
  }

  public NodePorts ports(int i) {
    return nodes.get(i);
  }

  public URI httpBase(int i) {
    return URI.create("http://" + httpHost(i) + ":" + httpPort(i));
  }

  private String httpHost(int i) {
    return httpHosts == null ? "127.0.0.1" : httpHosts.get(i);
  }

  private int httpPort(int i) {
    return httpHosts == null ? nodes.get(i).http() : sharedHttpPort;
  }

  public URI managementBase(int i) {
    return URI.create("http://127.0.0.1:" + nodes.get(i).management());
  }

  /** An admin token of the operator API, valid on these nodes only (never print it). */
  public String operatorToken() {
    return operatorToken;
  }

  /** The node's Prometheus endpoint. */
  public URI metrics(int i) {
    return URI.create("http://127.0.0.1:" + nodes.get(i).metrics() + "/metrics");
  }

  public List<URI> httpBases() {
    List<URI> all = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) all.add(httpBase(i));
    return all;
  }

  public Map<String, String> systemProperties(int i) {
    NodePorts p = nodes.get(i);
    Map<String, String> props = new LinkedHashMap<>();
    props.put("akka.remote.artery.canonical.hostname", "127.0.0.1");
    props.put("akka.remote.artery.canonical.port", Integer.toString(p.akka()));
    props.put("akka.management.http.hostname", "127.0.0.1");
    props.put("akka.management.http.port", Integer.toString(p.management()));
    props.put("shrivenquant.node.http.interface", httpHost(i));
    props.put("shrivenquant.node.http.port", Integer.toString(httpPort(i)));
    props.put("kamon.prometheus.embedded-server.hostname", "127.0.0.1");
    props.put("kamon.prometheus.embedded-server.port", Integer.toString(p.metrics()));
    // Local nodes' logs are files people read (dev mode, drills, test child logs).
    props.put("logback.configurationFile", "logback-text.xml");
    props.put(
        "shrivenquant.node.contact-points",
        nodes.stream().map(n -> "127.0.0.1:" + n.management()).collect(Collectors.joining(",")));
    props.put(
        "akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr",
        Integer.toString(nodes.size()));
    props.put("akka-persistence-jdbc.shared-databases.slick.db.url", journal.jdbcUrl());
    props.put("akka-persistence-jdbc.shared-databases.slick.db.user", journal.user());
    props.put("akka-persistence-jdbc.shared-databases.slick.db.password", journal.password());
    // One region on its own: no witness, no peer (the drill's regions turn failover on).
    props.put("shrivenquant.failover.enabled", "false");
    props.put(
        "shrivenquant.operator-api.tokens",
        TokenStore.line("local-admin", OperatorRole.ADMIN, operatorToken));
    props.putAll(extra);
    return props;
  }

  /**
   * The same settings as a Config for a node inside this JVM, layered like a child JVM's -D options
   * over application.conf; such a node must not exit the JVM when it stops.
   */
  public Config config(int i) {
    ConfigFactory.invalidateCaches();
    Map<String, String> props = new LinkedHashMap<>(systemProperties(i));
    props.put("akka.coordinated-shutdown.exit-jvm", "off");
    return ConfigFactory.load(
        ConfigFactory.parseMap(props).withFallback(ConfigFactory.defaultApplication()));
  }

  /** Waits until every node's readiness probe answers 200. */
  public void awaitReady(Duration timeout) throws InterruptedException {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int i = 0; i < nodes.size(); i++) {
      URI ready = managementBase(i).resolve("/health/ready");
      String last = "no answer";
      while (true) {
        try {
          HttpResponse<String> r =
              client.send(
                  HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) break;
          last = r.statusCode() + " " + r.body();
        } catch (java.io.IOException notYet) {
          last = notYet.toString();
        }
        if (System.nanoTime() > deadline)
          throw new IllegalStateException(
              "node " + i + " not ready within " + timeout + "; last answer: " + last);
        Thread.sleep(200);
      }
    }
  }
}
