package com.shrivenquant.failover.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

class OrderEndpointRecordsTest {
  static final Name NAME = Name.fromConstantString("orders.shrivenquant.example.");

  @Test
  void ipHostsBecomeOneAddressRecordEach() {
    List<Record> r =
        OrderEndpointRecords.fromUrls(
            NAME,
            "http://127.0.2.1:8080, http://127.0.2.2:8080,https://127.0.2.1:9443,http://[::1]:80/",
            5);
    assertEquals("A 127.0.2.1,127.0.2.2 AAAA 0:0:0:0:0:0:0:1", OrderEndpointRecords.describe(r));
    r.forEach(x -> assertEquals(5, x.getTTL()));
    r.forEach(x -> assertEquals(NAME, x.getName()));
  }

  @Test
  void aSingleHostNameBecomesACname() {
    List<Record> r =
        OrderEndpointRecords.fromUrls(
            NAME, "https://LB.Region-2.example.net:8443,https://lb.region-2.example.net:9443", 5);
    assertEquals(1, r.size());
    assertEquals(Type.CNAME, r.get(0).getType());
    assertEquals(
        Name.fromConstantString("lb.region-2.example.net."), ((CNAMERecord) r.get(0)).getTarget());
  }

  @Test
  void mixedOrSeveralHostNamesOrNothingAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> OrderEndpointRecords.fromUrls(NAME, "http://a.example:1,http://b.example:1", 5));
    assertThrows(
        IllegalArgumentException.class,
        () -> OrderEndpointRecords.fromUrls(NAME, "http://a.example:1,http://127.0.0.1:1", 5));
    assertThrows(
        IllegalArgumentException.class, () -> OrderEndpointRecords.fromUrls(NAME, " , ", 5));
    assertThrows(
        IllegalArgumentException.class, () -> OrderEndpointRecords.fromUrls(NAME, "no-host", 5));
  }

  @Test
  void epochTextRoundTrips() {
    String text = OrderEndpointRecords.epochText(7, "region-2");
    assertEquals("epoch=7 region=region-2", text);
    assertEquals(OptionalLong.of(7), OrderEndpointRecords.epochOf(text));
    assertEquals("region-2", OrderEndpointRecords.regionOf(text));
    assertEquals(OptionalLong.empty(), OrderEndpointRecords.epochOf("v=spf1 -all"));
    assertEquals(
        Name.fromConstantString("_epoch.orders.shrivenquant.example."),
        OrderEndpointRecords.epochName(NAME));
  }

  @Test
  void sameRecordsIgnoresOrderButNotDataOrTtl() {
    List<Record> a =
        OrderEndpointRecords.fromUrls(NAME, "http://127.0.2.1:1,http://127.0.2.2:1", 5);
    List<Record> reversed =
        OrderEndpointRecords.fromUrls(NAME, "http://127.0.2.2:1,http://127.0.2.1:1", 5);
    assertTrue(OrderEndpointRecords.sameRecords(a, reversed));
    assertFalse(
        OrderEndpointRecords.sameRecords(
            a, OrderEndpointRecords.fromUrls(NAME, "http://127.0.2.1:1,http://127.0.2.2:1", 6)));
    assertFalse(
        OrderEndpointRecords.sameRecords(
            a, OrderEndpointRecords.fromUrls(NAME, "http://127.0.2.1:1", 5)));
  }
}
