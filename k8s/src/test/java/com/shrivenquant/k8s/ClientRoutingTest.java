package com.shrivenquant.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Deploys never move routing, and every environment keeps to its own DNS name and witness keys:
 * rendered from every overlay (each environment x region). The client-facing record belongs to the
 * failover, which updates it by RFC 2136 at a promotion; an applied manifest that carried it (an
 * external-dns DNSEndpoint, an annotation) would point clients back at one region on every deploy.
 * BrokenManifestTest shows each of these checks failing.
 */
class ClientRoutingTest {

  private static List<Manifest> everyOverlay() {
    List<Manifest> all = new ArrayList<>();
    for (String overlay : Overlays.names()) all.add(Overlays.load(overlay));
    return all;
  }

  /** (a) No DNSEndpoint, and nothing names the client-facing name but SQ_ROUTING_DNS_NAME. */
  @Test
  void noManifestSetsTheClientFacingRecord() {
    List<String> problems = new ArrayList<>();
    for (Manifest m : everyOverlay()) problems.addAll(Checks.clientName(m));
    assertEquals(List.of(), problems, String.join("\n", problems));
  }

  /**
   * (b) Each environment names its own client-facing record and witness prefix, the same in both of
   * its regions; no two environments share either.
   */
  @Test
  void environmentsNeverShareTheirRecordOrWitnessKeys() {
    List<String> problems = Checks.acrossEnvironments(everyOverlay());
    assertEquals(List.of(), problems, String.join("\n", problems));
  }

  /**
   * (c) Routing kind dns comes with its name, zone, server and TSIG key (the secret from a Secret);
   * the witness is a complete etcd (three members, a prefix) or JDBC witness; the egress to the DNS
   * server and the etcd members is allowed.
   */
  @Test
  void dnsRoutingAndTheWitnessAreComplete() {
    List<String> problems = new ArrayList<>();
    for (Manifest m : everyOverlay()) {
      problems.addAll(Checks.routing(m));
      problems.addAll(Checks.witness(m));
      problems.addAll(Checks.networkPolicies(m));
    }
    assertEquals(List.of(), problems, String.join("\n", problems));
  }

  /** Staging and production route by DNS and keep the lease on etcd; dev is single-site. */
  @Test
  void stagingAndProductionUseDnsRoutingAndTheEtcdWitness() {
    for (Manifest m : everyOverlay()) {
      var env = new Pod(m).environment();
      boolean dev = m.environment().equals("dev");
      assertEquals(dev ? "none" : "dns", env.get(Checks.ROUTING_KIND), m.name);
      assertEquals(dev ? "jdbc" : "etcd", env.get(Checks.WITNESS_KIND), m.name);
    }
  }
}
