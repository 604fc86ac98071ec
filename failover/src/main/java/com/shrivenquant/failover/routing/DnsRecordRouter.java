package com.shrivenquant.failover.routing;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Kubernetes: writes the external-dns {@code DNSEndpoint} that points the clients' order-API name
 * at the active region's load balancer (applied by a sidecar or a GitOps loop watching the file;
 * the epoch annotation lets it refuse a stale writer).
 */
public final class DnsRecordRouter implements ClientRouter {
  private final Path file;
  private final String recordName;

  public DnsRecordRouter(Path file, String recordName) {
    this.file = file;
    this.recordName = recordName;
  }

  @Override
  public String route(String activeRegion, long epoch, String orderApiUrl) throws Exception {
    String target = URI.create(orderApiUrl).getHost();
    String yaml =
        """
        apiVersion: externaldns.k8s.io/v1alpha1
        kind: DNSEndpoint
        metadata:
          name: shrivenquant-order-api
          annotations:
            shrivenquant.io/active-region: "%s"
            shrivenquant.io/epoch: "%d"
        spec:
          endpoints:
            - dnsName: %s
              recordTTL: 5
              recordType: CNAME
              targets:
                - %s
        """
            .formatted(activeRegion, epoch, recordName, target);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return "DNSEndpoint " + recordName + " -> " + target + " written to " + file;
  }
}
