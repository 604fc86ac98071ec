package com.shrivenquant.failover.routing;

import com.shrivenquant.failover.FailoverSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/**
 * Moves clients by DNS: RFC 2136 dynamic updates, TSIG-signed, to the authoritative server of the
 * order API's name. The name gets the new region's A/AAAA records (or a CNAME, see {@link
 * OrderEndpointRecords}); the epoch goes into a TXT record at {@code _epoch.<name>}.
 *
 * <p>The epoch guard is a compare-and-swap done by the server: the router reads the TXT, refuses an
 * epoch older than the record's, and sends one update whose prerequisite is exactly the TXT it read
 * ("RRset exists, value dependent", or "RRset does not exist"). A writer who moved the record in
 * between makes the server refuse the whole update; the router then reads again and retries. Every
 * message is signed, and an answer whose TSIG does not verify is not believed. Reads go to the same
 * server, uncached.
 */
public final class Rfc2136Router implements ClientRouter {
  private static final Logger log = LoggerFactory.getLogger(Rfc2136Router.class);

  /** Update attempts when the server reports a concurrent writer (a failed prerequisite). */
  static final int ATTEMPTS = 3;

  private final FailoverSettings.Dns settings;
  private final InetSocketAddress server;
  private final Name zone;
  private final Name name;
  private final Name epochName;
  private final TSIG tsig;
  private final Runnable betweenReadAndUpdate;

  public Rfc2136Router(FailoverSettings.Dns settings) {
    this(settings, () -> {});
  }

  /**
   * @param betweenReadAndUpdate runs after each read, before the update is sent: tests let a real
   *     second writer move the record there
   */
  Rfc2136Router(FailoverSettings.Dns settings, Runnable betweenReadAndUpdate) {
    this.settings = settings;
    this.betweenReadAndUpdate = betweenReadAndUpdate;
    this.server = hostPort(settings.server());
    this.zone = OrderEndpointRecords.absolute(settings.zone(), "routing.dns.zone");
    this.name = OrderEndpointRecords.absolute(settings.name(), "routing.dns.name");
    if (!name.subdomain(zone) || name.equals(zone)) {
      throw new IllegalArgumentException(
          "routing.dns.name " + name + " must be a name inside routing.dns.zone " + zone);
    }
    this.epochName = OrderEndpointRecords.epochName(name);
    if (settings.tsigSecret().isBlank()) {
      throw new IllegalArgumentException(
          "routing.dns.tsig-secret is empty: updates must be signed (SQ_ROUTING_DNS_TSIG_SECRET)");
    }
    this.tsig =
        new TSIG(
            settings.tsigAlgorithm(),
            OrderEndpointRecords.absolute(settings.tsigKeyName(), "routing.dns.tsig-key-name")
                .toString(),
            settings.tsigSecret());
  }

  /** What the server holds now: the endpoint records at the name and the epoch TXT beside them. */
  public record State(List<Record> endpoint, List<Record> epochRecords, long epoch, String region) {
    /** No epoch TXT: nobody routed through DNS yet. */
    public boolean unrouted() {
      return epochRecords.isEmpty();
    }
  }

  /** A refusal by the server (its rcode), or an answer that cannot be believed. */
  public static final class DnsUpdateException extends IOException {
    private final String rcode;

    DnsUpdateException(String message, String rcode) {
      super(message);
      this.rcode = rcode;
    }

    /** E.g. {@code NOTAUTH/BADSIG}, {@code REFUSED}, {@code NXRRSET}; "" if the server agreed. */
    public String rcode() {
      return rcode;
    }
  }

  /** The routing name. */
  public Name name() {
    return name;
  }

  @Override
  public String route(String activeRegion, long epoch, String orderApiUrl) throws Exception {
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    long ttl = settings.ttl().toSeconds();
    List<Record> wanted = OrderEndpointRecords.fromUrls(name, orderApiUrl, ttl);
    String done =
        "DNS %s %s ttl %ds epoch %d via %s"
            .formatted(name, OrderEndpointRecords.describe(wanted), ttl, epoch, settings.server());
    String lastConflict = "";
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      State now = read(deadline);
      if (now.epoch() > epoch) {
        throw new IllegalStateException(
            "refusing to route %s to %s at epoch %d: older epoch than the record's (%d, %s)"
                .formatted(name, activeRegion, epoch, now.epoch(), now.region()));
      }
      if (now.epoch() == epoch
          && now.region().equals(activeRegion)
          && OrderEndpointRecords.sameRecords(now.endpoint(), wanted)) {
        return done + " (already in place)";
      }
      Update update = update(now, wanted, epoch, activeRegion, ttl);
      betweenReadAndUpdate.run();
      Message answer = send(update, deadline);
      int rcode = answer.getRcode();
      if (rcode == Rcode.NOERROR) {
        log.info(
            "{} (was {} epoch {})",
            done,
            OrderEndpointRecords.describe(now.endpoint()),
            now.epoch());
        return done;
      }
      // NXRRSET: the TXT is no longer what we read; YXRRSET: one appeared; NXDOMAIN: it vanished
      lastConflict = Rcode.string(rcode);
      log.warn(
          "DNS update of {} for epoch {}: prerequisite failed ({}), somebody moved it; attempt {}/{}",
          name,
          epoch,
          lastConflict,
          attempt,
          ATTEMPTS);
    }
    throw new DnsUpdateException(
        "DNS update of %s for %s epoch %d: the record kept changing under us (%s, %d attempts)"
            .formatted(name, activeRegion, epoch, lastConflict, ATTEMPTS),
        lastConflict);
  }

  /** One message: the CAS on the epoch TXT read, then replace the endpoint and epoch RRsets. */
  private Update update(State now, List<Record> wanted, long epoch, String region, long ttl) {
    Update u = new Update(zone);
    if (now.unrouted()) {
      u.absent(epochName, Type.TXT);
    } else {
      // value-dependent: the whole TXT RRset must be exactly this (prerequisite TTLs are 0)
      for (Record r : now.epochRecords()) {
        u.present(
            Record.newRecord(r.getName(), r.getType(), r.getDClass(), 0, r.rdataToWireCanonical()));
      }
    }
    for (int type : OrderEndpointRecords.ENDPOINT_TYPES) {
      u.delete(name, type);
    }
    u.delete(epochName, Type.TXT);
    wanted.forEach(u::add);
    u.add(new TXTRecord(epochName, DClass.IN, ttl, OrderEndpointRecords.epochText(epoch, region)));
    return u;
  }

  /** Reads the name's endpoint records and epoch from the server, within the call's timeout. */
  public State read() throws IOException, TimeoutException, InterruptedException {
    return read(System.nanoTime() + settings.timeout().toNanos());
  }

  private State read(long deadline) throws IOException, TimeoutException, InterruptedException {
    // Asking A and AAAA also yields a CNAME at the name (the server answers with it).
    List<CompletableFuture<Message>> asked = new ArrayList<>();
    asked.add(sendAsync(query(name, Type.A), deadline));
    asked.add(sendAsync(query(name, Type.AAAA), deadline));
    asked.add(sendAsync(query(epochName, Type.TXT), deadline));
    Set<Record> endpoint = new LinkedHashSet<>();
    List<Record> epochRecords = new ArrayList<>();
    for (CompletableFuture<Message> f : asked) {
      Message answer = await(f, deadline);
      int rcode = answer.getRcode();
      if (rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) {
        throw refusal("DNS query for " + answer.getQuestion(), answer);
      }
      for (Record r : answer.getSection(Section.ANSWER)) {
        if (r.getName().equals(name) && OrderEndpointRecords.ENDPOINT_TYPES.contains(r.getType())) {
          endpoint.add(r);
        } else if (r.getName().equals(epochName) && r.getType() == Type.TXT) {
          epochRecords.add(r);
        }
      }
    }
    long epoch = 0;
    String region = "";
    for (Record r : epochRecords) {
      String text = String.join("", ((TXTRecord) r).getStrings());
      OptionalLong e = OrderEndpointRecords.epochOf(text);
      if (e.isEmpty()) {
        throw new IllegalStateException(
            epochName + " holds a TXT this router did not write: '" + text + "'; fix it by hand");
      }
      if (e.getAsLong() >= epoch) {
        epoch = e.getAsLong();
        region = OrderEndpointRecords.regionOf(text);
      }
    }
    return new State(List.copyOf(endpoint), List.copyOf(epochRecords), epoch, region);
  }

  private static Message query(Name n, int type) {
    return Message.newQuery(Record.newRecord(n, type, DClass.IN));
  }

  private Message send(Message m, long deadline)
      throws IOException, TimeoutException, InterruptedException {
    Message answer = await(sendAsync(m, deadline), deadline);
    int rcode = answer.getRcode();
    boolean prerequisiteFailed =
        rcode == Rcode.NXRRSET || rcode == Rcode.YXRRSET || rcode == Rcode.NXDOMAIN;
    if (rcode != Rcode.NOERROR && !prerequisiteFailed) {
      throw refusal("DNS update of " + name + " via " + settings.server(), answer);
    }
    return answer;
  }

  /** Signed, over TCP (no lost datagrams within the deadline), a new resolver: nothing cached. */
  private CompletableFuture<Message> sendAsync(Message m, long deadline) {
    SimpleResolver resolver = new SimpleResolver(server);
    resolver.setTCP(true);
    resolver.setTSIGKey(tsig);
    resolver.setTimeout(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
    return resolver.sendAsync(m).toCompletableFuture();
  }

  /** The answer, if it arrives in time and its TSIG verifies (or it is an error anyway). */
  private Message await(CompletableFuture<Message> f, long deadline)
      throws IOException, TimeoutException, InterruptedException {
    Message answer;
    try {
      answer = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new TimeoutException(
          "no answer from DNS server " + settings.server() + " within " + settings.timeout());
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw new IOException(
            "DNS server " + settings.server() + " did not answer: " + io.getMessage(), io);
      }
      throw new IOException("DNS exchange with " + settings.server() + " failed", cause);
    }
    TSIGRecord signature = answer.getTSIG();
    if (signature != null && signature.getError() != Rcode.NOERROR) {
      throw refusal("DNS server " + settings.server(), answer);
    }
    if (!answer.isVerified()) {
      throw new DnsUpdateException(
          "the answer of DNS server "
              + settings.server()
              + (signature == null ? " is not signed" : "'s TSIG does not verify")
              + " (key "
              + settings.tsigKeyName()
              + "; "
              + Rcode.string(answer.getRcode())
              + "): not believed",
          signature == null ? "UNSIGNED" : "BADSIG");
    }
    return answer;
  }

  private DnsUpdateException refusal(String what, Message answer) {
    String rcode = Rcode.string(answer.getRcode());
    TSIGRecord signature = answer.getTSIG();
    if (signature != null && signature.getError() != Rcode.NOERROR) {
      rcode += "/" + Rcode.TSIGstring(signature.getError());
    }
    return new DnsUpdateException(
        what + " refused: " + rcode + " (key " + settings.tsigKeyName() + ")", rcode);
  }

  private static InetSocketAddress hostPort(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("routing.dns.server must be host:port: " + hostPort);
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
  }

  @Override
  public String toString() {
    return "Rfc2136Router[" + name + " in " + zone + " via " + settings.server() + "]";
  }
}
