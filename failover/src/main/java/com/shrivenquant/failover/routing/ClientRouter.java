package com.shrivenquant.failover.routing;

/**
 * Moves client routing to the newly active region. Pluggable: the local routing endpoint for dev
 * and drills, an external-dns record for Kubernetes.
 */
public interface ClientRouter {
  /**
   * @return what was done, for the incident
   */
  String route(String activeRegion, long epoch, String orderApiUrl) throws Exception;

  ClientRouter NONE = (region, epoch, url) -> "no client router configured";
}
