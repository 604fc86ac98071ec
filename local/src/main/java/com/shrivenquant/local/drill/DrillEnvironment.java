package com.shrivenquant.local.drill;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.shrivenquant.engine.persistence.JournalSchema;
import com.shrivenquant.failover.verify.JournalDigests;
import com.shrivenquant.local.NodeProcess;
import com.shrivenquant.local.dev.LocalClusterLayout;
import com.shrivenquant.testkit.infra.ChildJvm;
import com.shrivenquant.testkit.infra.FreePorts;
import com.shrivenquant.testkit.infra.KafkaBroker;
import com.shrivenquant.testkit.infra.LocalPostgres;
import com.shrivenquant.testkit.infra.TcpProxy;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * Everything a drill runs on, on this machine: two PostgreSQL servers (region 1, region 2), the
 * witness ({@link DrillWitness}: three etcd members or a PostgreSQL), a Kafka broker (the standby
 * region's), the clients' routing ({@link DrillRouting}: a DNS server or the routing proxy), a
 * webhook receiver, and both regions as real node processes. Region 1's links to the witness, to
 * region 2's database and to the Kafka broker (and region 2's to region 1's database) go through
 * fault-injecting proxies, so a drill can cut region 1 off instead of killing it. The link from
 * region 1 to the broker is the WAN a {@code sync} publish crosses: {@link
 * Options#kafkaDelayFromRegion1()} delays it one way (each direction), region 2 reaches the broker
 * directly (through the broker's {@link KafkaBroker.Builder#proxiedListener proxied listener} and
 * its plain one respectively).
 */
public final class DrillEnvironment implements AutoCloseable {
  static final String R1 = "region-1";
  static final String R2 = "region-2";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What a caller may change: the one-way delay on the link from region 1 to the Kafka broker,
   * extra system properties for region 1's and region 2's nodes (set after, so over, the
   * environment's own), the witness ({@code etcd} or {@code jdbc}) and the clients' routing ({@code
   * dns} or {@code proxy}).
   */
  public record Options(
      Duration kafkaDelayFromRegion1,
      Map<String, String> region1Properties,
      Map<String, String> region2Properties,
      String witness,
      String routing) {
    public Options {
      if (kafkaDelayFromRegion1.isNegative()) {
        throw new IllegalArgumentException("negative delay: " + kafkaDelayFromRegion1);
      }
      region1Properties = Map.copyOf(region1Properties);
      region2Properties = Map.copyOf(region2Properties);
    }

    /** No delay, no extra properties, the etcd witness and DNS routing (as production). */
    public static Options defaults() {
      return new Options(Duration.ZERO, Map.of(), Map.of(), "etcd", "dns");
    }

    public Options withKafkaDelayFromRegion1(Duration delay) {
      return new Options(delay, region1Properties, region2Properties, witness, routing);
    }

    public Options withRegion1Properties(Map<String, String> properties) {
      return new Options(kafkaDelayFromRegion1, properties, region2Properties, witness, routing);
    }

    public Options withRegion2Properties(Map<String, String> properties) {
      return new Options(kafkaDelayFromRegion1, region1Properties, properties, witness, routing);
    }

    public Options withWitness(String kind) {
      return new Options(
          kafkaDelayFromRegion1, region1Properties, region2Properties, kind, routing);
    }

    public Options withRouting(String kind) {
      return new Options(
          kafkaDelayFromRegion1, region1Properties, region2Properties, witness, kind);
    }
  }

  /** One region: its database, node layout and node processes. */
  public final class Region {
    final String name;
    final LocalPostgres postgres;
    final LocalPostgres.Database db;
    final LocalClusterLayout layout;
    final List<ChildJvm> nodes = new ArrayList<>();

    Region(
        String name, LocalPostgres postgres, LocalPostgres.Database db, LocalClusterLayout layout) {
      this.name = name;
      this.postgres = postgres;
      this.db = db;
      this.layout = layout;
    }

    String orderApiUrls() {
      return layout.httpBases().stream().map(URI::toString).collect(Collectors.joining(","));
    }

    void start() {
      nodes.clear();
      for (int i = 0; i < layout.size(); i++) {
        nodes.add(
            NodeProcess.builder(name + "-node-" + (i + 1))
                .jvmOptions(nodeJvmOptions.toArray(String[]::new))
                .systemProperties(layout.systemProperties(i))
                .logDirectory(logs)
                .start());
      }
    }

    void awaitReady(Duration timeout) throws InterruptedException {
      layout.awaitReady(timeout);
    }

    /** kill -9 of every node process of the region. */
    void kill9() {
      nodes.forEach(ChildJvm::kill9);
    }

    void stop() {
      nodes.parallelStream().forEach(n -> n.stop(Duration.ofSeconds(10)));
    }

    /** SIGSTOP of every node process for {@code d}, then SIGCONT: a stall, not a death. */
    void pause(Duration d) throws IOException, InterruptedException {
      signal("-STOP");
      try {
        Thread.sleep(d.toMillis());
      } finally {
        signal("-CONT");
      }
    }

    private void signal(String signal) throws IOException, InterruptedException {
      List<String> cmd = new ArrayList<>(List.of("kill", signal));
      nodes.forEach(n -> cmd.add(Long.toString(n.pid())));
      int rc = new ProcessBuilder(cmd).inheritIO().start().waitFor();
      if (rc != 0) throw new IOException(String.join(" ", cmd) + " exited " + rc);
    }

    /** The first node's view of the region (GET /failover/status), or null if none answers. */
    JsonNode status() {
      try {
        return get("/failover/status");
      } catch (IOException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }

    /** Waits until every node reports {@code role}; returns when all do. */
    void awaitRole(String role, boolean accepting, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      String last = "";
      while (System.nanoTime() < deadline) {
        boolean all = true;
        for (int i = 0; i < layout.size(); i++) {
          JsonNode s = nodeStatus(i);
          if (s == null
              || !role.equals(s.path("role").asText())
              || s.path("accepting").asBoolean() != accepting) {
            all = false;
            last = s == null ? "node " + i + " not answering" : s.toString();
            break;
          }
        }
        if (all) return;
        Thread.sleep(100);
      }
      throw new IllegalStateException(
          name + " did not become " + role + " within " + timeout + "; last: " + last);
    }

    JsonNode nodeStatus(int i) {
      try {
        return getFrom(i, "/failover/status");
      } catch (IOException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }

    String post(String path) throws IOException, InterruptedException {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(layout.managementBase(0).resolve(path))
                  .header("Authorization", "Bearer " + layout.operatorToken())
                  .timeout(Duration.ofSeconds(40))
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200)
        throw new IllegalStateException(path + " answered " + r.statusCode() + ": " + r.body());
      return r.body();
    }

    /** GET of a management path on the first node that answers 200. */
    JsonNode get(String path) throws IOException, InterruptedException {
      for (int i = 0; i < layout.size(); i++) {
        JsonNode answer = getFrom(i, path);
        if (answer != null) return answer;
      }
      throw new IOException("no node of " + name + " serves " + path);
    }

    /** Node i's answer to a management GET, or null unless it answered 200. */
    private JsonNode getFrom(int i, String path) throws IOException, InterruptedException {
      // IOException only from the body parse below; transport failures mean "no answer".
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(layout.managementBase(i).resolve(path))
                    .header("Authorization", "Bearer " + layout.operatorToken())
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
      } catch (IOException e) {
        return null; // that node is down or stalled: a drill kills and stops nodes
      }
    }

    /** The newest incident documents of the region (GET /failover/incidents), newest first. */
    JsonNode incidents() throws IOException, InterruptedException {
      return get("/failover/incidents");
    }
  }

  private final Path workDir;
  private final Path logs;
  private final List<String> nodeJvmOptions;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  final DrillWitness witness;
  final KafkaBroker kafka;
  final ActorSystem<Void> local;
  final DrillRouting routing;
  final Region region1;
  final Region region2;

  /** Region 1 -> region 2's database, region 2 -> region 1's database. */
  final TcpProxy r2DbFromR1;

  final TcpProxy r1DbFromR2;

  /** Region 1 -> the Kafka broker (its proxied listener): the WAN link of a sync publish. */
  final TcpProxy kafkaFromR1;

  private final HttpServer webhook;
  final List<String> webhookDeliveries = new CopyOnWriteArrayList<>();

  private DrillEnvironment(
      Path workDir,
      List<String> nodeJvmOptions,
      String durability,
      int instruments,
      Options options)
      throws Exception {
    this.workDir = workDir;
    this.logs = workDir.resolve("logs");
    this.nodeJvmOptions = nodeJvmOptions;
    List<AutoCloseable> started = new ArrayList<>();
    try {
      witness = DrillWitness.start(options.witness(), logs);
      started.add(witness);
      routing = DrillRouting.start(options.routing(), logs);
      started.add(routing);
      LocalPostgres pg1 =
          LocalPostgres.builder()
              .name("region-1-postgres")
              .durable(true)
              .logDirectory(logs)
              .start();
      started.add(pg1);
      LocalPostgres pg2 =
          LocalPostgres.builder()
              .name("region-2-postgres")
              .durable(true)
              .logDirectory(logs)
              .start();
      started.add(pg2);
      int kafkaListenerForR1 = FreePorts.freePort();
      kafkaFromR1 =
          TcpProxy.start(
              "kafka-from-region-1",
              "127.0.0.1",
              kafkaListenerForR1,
              options.kafkaDelayFromRegion1());
      started.add(kafkaFromR1);
      kafka =
          KafkaBroker.builder()
              .name("kafka")
              .proxiedListener(kafkaListenerForR1, kafkaFromR1.port())
              .logDirectory(logs)
              .jvmOptions("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
              .start();
      started.add(kafka);
      LocalPostgres.Database db1 = pg1.createDatabase("shrivenquant");
      LocalPostgres.Database db2 = pg2.createDatabase("shrivenquant");
      JournalSchema.migrate(db1.dataSource());
      JournalSchema.migrate(db2.dataSource());

      r2DbFromR1 = TcpProxy.start("region-2-db-from-region-1", "127.0.0.1", pg2.port());
      r1DbFromR2 = TcpProxy.start("region-1-db-from-region-2", "127.0.0.1", pg1.port());
      started.add(r2DbFromR1);
      started.add(r1DbFromR2);

      local =
          ActorSystem.create(
              Behaviors.empty(),
              "drill",
              ConfigFactory.parseString(
                      "akka.actor.provider = local\nakka.loglevel = WARNING\n"
                          + "akka.http.host-connection-pool.max-connections = 64\n"
                          + "akka.http.host-connection-pool.max-open-requests = 1024\n"
                          // A dead region's nodes refuse connections: retry them soon, not after 2
                          // minutes.
                          + "akka.http.host-connection-pool.base-connection-backoff = 20ms\n"
                          + "akka.http.host-connection-pool.max-connection-backoff = 200ms")
                  .withFallback(ConfigFactory.defaultReference()));
      webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      webhook.createContext(
          "/incidents",
          exchange -> {
            webhookDeliveries.add(
                new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
          });
      webhook.start();
      String webhookUrl = "http://127.0.0.1:" + webhook.getAddress().getPort() + "/incidents";

      LocalClusterLayout l1 =
          LocalClusterLayout.allocate(
              2, new LocalClusterLayout.Journal(db1.jdbcUrl(), db1.user(), db1.password()));
      LocalClusterLayout l2 =
          LocalClusterLayout.allocate(
              2, new LocalClusterLayout.Journal(db2.jdbcUrl(), db2.user(), db2.password()));
      routing.place(l1, 1);
      routing.place(l2, 2);
      region1 = new Region(R1, pg1, db1, l1);
      region2 = new Region(R2, pg2, db2, l2);
      configure(
          l1,
          R1,
          R2,
          witness.properties(true),
          "jdbc:postgresql://127.0.0.1:" + r2DbFromR1.port() + "/shrivenquant",
          kafka.proxiedBootstrapServers(),
          l2,
          region1,
          webhookUrl,
          durability,
          instruments);
      configure(
          l2,
          R2,
          R1,
          witness.properties(false),
          "jdbc:postgresql://127.0.0.1:" + r1DbFromR2.port() + "/shrivenquant",
          kafka.bootstrapServers(),
          l1,
          region2,
          webhookUrl,
          durability,
          instruments);
      options.region1Properties().forEach(l1::with);
      options.region2Properties().forEach(l2::with);
      routing.open(local, region1.orderApiUrls());
    } catch (Exception | Error e) {
      for (int i = started.size() - 1; i >= 0; i--) {
        try {
          started.get(i).close();
        } catch (Exception ignored) {
          // best effort
        }
      }
      throw e;
    }
  }

  private void configure(
      LocalClusterLayout l,
      String region,
      String peer,
      Map<String, String> witnessProperties,
      String peerJournalUrl,
      String kafkaBootstrapServers,
      LocalClusterLayout peerLayout,
      Region self,
      String webhookUrl,
      String durability,
      int instruments) {
    l.with("shrivenquant.node.region", region)
        .with("shrivenquant.failover.enabled", "true")
        .with("shrivenquant.failover.peer-region", peer)
        .with("shrivenquant.failover.initial-active-region", R1)
        .with("shrivenquant.failover.peer-journal.jdbc-url", peerJournalUrl)
        .with(
            "shrivenquant.failover.watcher.peer-health-urls",
            peerLayout.size() == 0
                ? ""
                : java.util.stream.IntStream.range(0, peerLayout.size())
                    .mapToObj(i -> peerLayout.managementBase(i).toString())
                    .collect(Collectors.joining(",")))
        .with("shrivenquant.failover.replication.bootstrap-servers", kafkaBootstrapServers)
        .with("shrivenquant.failover.replication.durability", durability)
        .with("shrivenquant.failover.routing.order-api-url", self.orderApiUrls())
        .with("shrivenquant.failover.notify.webhook-url", webhookUrl)
        .with("shrivenquant.engine.synthetic-instruments.count", Integer.toString(instruments));
    witnessProperties.forEach(l::with);
    routing.properties().forEach(l::with);
  }

  /** As {@link #start(Path, List, String, int, Options)} with {@link Options#defaults()}. */
  public static DrillEnvironment start(
      Path workDir, List<String> nodeJvmOptions, String durability, int instruments)
      throws Exception {
    return start(workDir, nodeJvmOptions, durability, instruments, Options.defaults());
  }

  /**
   * Starts the databases, the broker, the proxies and both regions, and returns once region 1 is
   * active and region 2 standby.
   */
  public static DrillEnvironment start(
      Path workDir,
      List<String> nodeJvmOptions,
      String durability,
      int instruments,
      Options options)
      throws Exception {
    DrillEnvironment env =
        new DrillEnvironment(workDir, nodeJvmOptions, durability, instruments, options);
    try {
      env.region1.start();
      env.region2.start();
      env.region1.awaitReady(Duration.ofSeconds(180));
      env.region2.awaitReady(Duration.ofSeconds(180));
      env.region1.awaitRole("ACTIVE", true, Duration.ofSeconds(60));
      env.region2.awaitRole("STANDBY", false, Duration.ofSeconds(60));
      return env;
    } catch (Exception | Error e) {
      env.close();
      throw e;
    }
  }

  Region region(String name) {
    return name.equals(R1) ? region1 : region2;
  }

  Region peerOf(Region r) {
    return r == region1 ? region2 : region1;
  }

  /** True when both journals hold the same events (per entity digests over all events). */
  boolean journalsEqual() throws Exception {
    Map<String, JournalDigests.Range> a = JournalDigests.ranges(region1.db.dataSource());
    Map<String, JournalDigests.Range> b = JournalDigests.ranges(region2.db.dataSource());
    if (!a.equals(b)) return false;
    Map<String, Long> upTo =
        a.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().max()));
    return JournalDigests.digestsUpTo(region1.db.dataSource(), upTo)
        .equals(JournalDigests.digestsUpTo(region2.db.dataSource(), upTo));
  }

  long pauseBudgetMs() {
    return com.shrivenquant.failover.FailoverSettings.fromConfig(ConfigFactory.load(), R1)
        .pauseBudget()
        .toMillis();
  }

  /** The order API of region 1's nodes (benchmarks load them directly, without the router). */
  public List<URI> region1OrderApi() {
    return region1.layout.httpBases();
  }

  /**
   * The environment's processes, for CPU accounting: each region's node JVMs, the broker's JVM, and
   * each PostgreSQL server's postmaster (parent of its backends and helpers).
   */
  public record Pids(
      List<Long> region1Nodes,
      List<Long> region2Nodes,
      long kafka,
      long region1Postgres,
      long region2Postgres,
      List<Long> witness) {}

  /** The processes running now (node pids change when a drill restarts a region). */
  public Pids pids() {
    return new Pids(
        region1.nodes.stream().map(ChildJvm::pid).toList(),
        region2.nodes.stream().map(ChildJvm::pid).toList(),
        kafka.pid().orElseThrow(() -> new IllegalStateException("the Kafka broker never started")),
        region1.postgres.postmasterPid(),
        region2.postgres.postmasterPid(),
        witness.pids());
  }

  /**
   * The link from region 1's nodes to the Kafka broker: {@link TcpProxy#delay(Duration)} changes
   * the WAN's one-way delay, {@link TcpProxy#blackhole()} cuts region 1 off the broker.
   */
  public TcpProxy kafkaFromRegion1() {
    return kafkaFromR1;
  }

  /** The whole environment's logs. */
  public Path logs() {
    return logs;
  }

  /** Where clients send orders: the order API's DNS name, or the routing proxy. */
  OrderEndpoint clientEndpoint() {
    return routing.clients();
  }

  /** Region 1 loses its links to the witness (the partition fault), or gets them back. */
  void cutRegion1FromWitness() {
    witness.cutRegion1();
  }

  void restoreRegion1ToWitness() {
    witness.restoreRegion1();
  }

  Path workDir() {
    return workDir;
  }

  @Override
  public void close() {
    for (Region r : List.of(region1, region2)) {
      if (r != null) r.stop();
    }
    if (routing != null) routing.close();
    if (webhook != null) webhook.stop(0);
    if (local != null) local.terminate();
    for (AutoCloseable c : new AutoCloseable[] {r2DbFromR1, r1DbFromR2, kafkaFromR1, kafka}) {
      try {
        if (c != null) c.close();
      } catch (Exception ignored) {
        // best effort
      }
    }
    for (Region r : List.of(region1, region2)) {
      if (r != null) r.postgres.close();
    }
    if (witness != null) witness.close();
  }
}
