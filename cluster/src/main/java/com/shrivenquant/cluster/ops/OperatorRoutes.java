package com.shrivenquant.cluster.ops;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.Cluster;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.Query;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.management.cluster.javadsl.ClusterHttpManagementRoutes;
import akka.management.javadsl.ManagementRouteProvider;
import akka.management.javadsl.ManagementRouteProviderSettings;
import com.shrivenquant.cluster.NodeSettings;
import com.shrivenquant.failover.region.RegionStateStore;
import com.shrivenquant.replication.ReplicationDataSource;
import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executor;
import scala.jdk.javaapi.DurationConverters;

/**
 * The operator API on the Akka Management port, beside its health and bootstrap routes (which stay
 * open), every route behind a bearer token with a role ({@link BearerTokenGuard}) and audited:
 *
 * <ul>
 *   <li>viewer: {@code GET /failover/status}, {@code /failover/replication}, {@code
 *       /failover/incidents}, {@code /failover/consistency}, {@code /ops/drills}, {@code
 *       /ops/drills/{id}}, {@code /ops/drills/{id}/report}, Akka Management's {@code GET
 *       /cluster/...};
 *   <li>operator: {@code POST /failover/switchover}, {@code POST /ops/drills}, a member's leave
 *       ({@code DELETE /cluster/members/{m}}, {@code PUT} with {@code operation=leave});
 *   <li>admin: {@code POST /ops/promote}, {@code POST /ops/fence}, {@code POST /ops/tokens/reload},
 *       {@code GET /ops/audit}, downing a member and Akka Management's other mutating routes.
 * </ul>
 *
 * Akka Management's own cluster route provider is switched off in application.conf; its routes
 * (read-write) are served here behind the guard instead. The other routes live in their groups:
 * {@link FailoverReadRoutes}, {@link OperatorActionRoutes}, {@link AdminRoutes}.
 */
public final class OperatorRoutes extends AllDirectives implements ManagementRouteProvider {
  private final BearerTokenGuard guard;
  private final FailoverReadRoutes failoverReads;
  private final OperatorActionRoutes operatorActions;
  private final AdminRoutes admin;
  private final Route clusterRoutes;

  public OperatorRoutes(ExtendedActorSystem classic) throws TokenStore.InvalidTokens {
    ActorSystem<?> system = Adapter.toTyped(classic);
    OperatorApiSettings settings = OperatorApiSettings.fromConfig(classic.settings().config());
    NodeSettings node = NodeSettings.fromConfig(classic.settings().config());
    // The node's own database (the region database when failover is on): audit rows and drills
    // go there in every mode, so dev mode audits too.
    HikariDataSource db =
        ReplicationDataSource.pooled(
            node.jdbcUrl(), node.jdbcUser(), node.jdbcPassword(), "operator-api");
    RegionStateStore.migrate(db);
    TokenStore tokens = TokenStore.start(settings);
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    AuditStore audit = new AuditStore(db, blocking);
    this.guard = new BearerTokenGuard(tokens, new FailureThrottle(settings.throttle()), audit);
    SwitchoverDrillRunner drills =
        new SwitchoverDrillRunner(system, new SwitchoverDrillStore(db), settings.actionTimeout());
    Duration timeout = settings.actionTimeout();
    this.failoverReads = new FailoverReadRoutes(system, guard, timeout, blocking);
    this.operatorActions = new OperatorActionRoutes(system, guard, timeout, blocking, drills);
    this.admin = new AdminRoutes(system, guard, timeout, blocking, tokens, audit);
    this.clusterRoutes = ClusterHttpManagementRoutes.all(Cluster.get(classic));
    system
        .getWhenTerminated()
        .thenRun(
            () -> {
              tokens.close();
              drills.close();
              db.close();
            });
  }

  @Override
  public Route routes(ManagementRouteProviderSettings ignored) {
    return concat(
        failoverReads.routes(),
        operatorActions.routes(),
        admin.routes(),
        // Not consumed: Akka Management's cluster routes match "cluster" themselves. The form is
        // read (strict) before the guard, which decides a member PUT's role by its operation.
        pathPrefixTest(
            "cluster",
            () ->
                toStrictEntity(
                    DurationConverters.toScala(Duration.ofSeconds(5)),
                    () -> guard.protect(OperatorRoutes::clusterRole, c -> clusterRoutes))));
  }

  /**
   * GET: viewer. A member's leave: operator. Down, join, prepare-for-full-shutdown, anything else:
   * admin.
   */
  static OperatorRole clusterRole(HttpRequest request) {
    if (request.method().equals(HttpMethods.GET) || request.method().equals(HttpMethods.HEAD))
      return OperatorRole.VIEWER;
    boolean member = request.getUri().path().matches("/cluster/members/.+");
    if (member && request.method().equals(HttpMethods.DELETE)) return OperatorRole.OPERATOR;
    if (member
        && request.method().equals(HttpMethods.PUT)
        && request.entity() instanceof HttpEntity.Strict strict
        && strict
            .getContentType()
            .mediaType()
            .equals(MediaTypes.APPLICATION_X_WWW_FORM_URLENCODED)) {
      Optional<String> operation = Query.create(strict.getData().utf8String()).get("operation");
      if (operation.isPresent() && operation.get().equalsIgnoreCase("leave"))
        return OperatorRole.OPERATOR;
    }
    return OperatorRole.ADMIN;
  }
}
