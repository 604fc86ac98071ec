package com.shrivenquant.local.drill;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * A client's view of the order API's name, as a client library has it: resolved at the DNS server,
 * kept for the answer's TTL (so after a failover clients move only once their cached answer
 * expires, which the drill's RTO includes), attempts spread over the addresses. A failed lookup
 * keeps the old answer and is retried soon.
 */
final class DnsOrderEndpoint implements OrderEndpoint {
  private static final long RETRY_LOOKUP_NANOS = Duration.ofMillis(100).toNanos();

  private record Answer(List<String> addresses, long expiresAtNanos) {}

  private final SimpleResolver resolver;
  private final Name name;
  private final int port;
  private volatile Answer answer = new Answer(List.of(), 0);

  DnsOrderEndpoint(String server, String name, int port) throws IOException {
    int colon = server.lastIndexOf(':');
    this.resolver =
        new SimpleResolver(
            new InetSocketAddress(
                server.substring(0, colon), Integer.parseInt(server.substring(colon + 1))));
    resolver.setTimeout(Duration.ofSeconds(1));
    this.name = Name.fromString(name.endsWith(".") ? name : name + ".");
    this.port = port;
  }

  @Override
  public String baseUrl(long seq) {
    Answer a = answer;
    if (System.nanoTime() - a.expiresAtNanos >= 0) a = resolve();
    if (a.addresses.isEmpty()) return "http://unresolved.invalid:" + port;
    return "http://"
        + a.addresses.get((int) Math.floorMod(seq, (long) a.addresses.size()))
        + ":"
        + port;
  }

  @Override
  public String kind() {
    return "dns";
  }

  /** The addresses the name has now at the server (no cache), for checks. */
  List<String> lookup() throws IOException {
    return query().addresses;
  }

  private synchronized Answer resolve() {
    Answer a = answer;
    if (System.nanoTime() - a.expiresAtNanos < 0) return a; // another client resolved it
    try {
      a = query();
    } catch (IOException e) {
      a = new Answer(a.addresses, System.nanoTime() + RETRY_LOOKUP_NANOS);
    }
    answer = a;
    return a;
  }

  private Answer query() throws IOException {
    Message response = resolver.send(Message.newQuery(Record.newRecord(name, Type.A, DClass.IN)));
    if (response.getRcode() != Rcode.NOERROR) {
      throw new IOException(name + ": " + Rcode.string(response.getRcode()));
    }
    List<String> addresses = new ArrayList<>();
    long ttl = Long.MAX_VALUE;
    for (Record r : response.getSection(Section.ANSWER)) {
      if (r instanceof ARecord a) {
        addresses.add(a.getAddress().getHostAddress());
        ttl = Math.min(ttl, r.getTTL());
      }
    }
    if (addresses.isEmpty()) throw new IOException(name + ": no address");
    return new Answer(
        List.copyOf(addresses), System.nanoTime() + Duration.ofSeconds(ttl).toNanos());
  }
}
