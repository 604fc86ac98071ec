package com.shrivenquant.failover.routing;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Address;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * The DNS records that send clients to one region's order API (pure: no I/O). IP addresses in the
 * URLs become an A/AAAA RRset, one record per distinct host; a single host name becomes a CNAME.
 * The route's epoch lives in a TXT record at {@code _epoch.<name>}: a CNAME cannot share its owner
 * name with any other record.
 */
public final class OrderEndpointRecords {

  /** The record types {@link Rfc2136Router} owns at the order API's name. */
  public static final List<Integer> ENDPOINT_TYPES = List.of(Type.A, Type.AAAA, Type.CNAME);

  private static final Pattern EPOCH_TEXT = Pattern.compile("^epoch=(\\d+)(?: region=(\\S+))?$");

  private OrderEndpointRecords() {}

  /** Where the epoch TXT lives. */
  public static Name epochName(Name name) {
    try {
      return Name.concatenate(Name.fromConstantString("_epoch"), name);
    } catch (org.xbill.DNS.NameTooLongException e) {
      throw new IllegalArgumentException("name too long for an _epoch. record: " + name, e);
    }
  }

  /** An absolute name from config; a missing trailing dot is added. */
  public static Name absolute(String name, String what) {
    String n = name.trim();
    if (n.isEmpty()) {
      throw new IllegalArgumentException(what + " is empty");
    }
    try {
      return Name.fromString(n.endsWith(".") ? n : n + ".");
    } catch (TextParseException e) {
      throw new IllegalArgumentException(what + " is not a DNS name: " + name, e);
    }
  }

  /**
   * @param orderApiUrls one or more comma-separated base URLs of the region's nodes
   * @return the A and AAAA records of the distinct IP hosts, or one CNAME to the single host name
   */
  public static List<Record> fromUrls(Name name, String orderApiUrls, long ttlSeconds) {
    Set<InetAddress> addresses = new LinkedHashSet<>();
    Set<String> hostNames = new LinkedHashSet<>();
    for (String url : orderApiUrls.split(",")) {
      if (url.isBlank()) {
        continue;
      }
      String host = hostOf(url.trim());
      InetAddress ip = ipLiteral(host);
      if (ip != null) {
        addresses.add(ip);
      } else {
        hostNames.add(host.toLowerCase(Locale.ROOT));
      }
    }
    if (addresses.isEmpty() && hostNames.isEmpty()) {
      throw new IllegalArgumentException("no order API URL to route to: '" + orderApiUrls + "'");
    }
    if (!hostNames.isEmpty()) {
      if (!addresses.isEmpty() || hostNames.size() > 1) {
        throw new IllegalArgumentException(
            "a DNS name can point at IP addresses (A/AAAA) or at one host name (CNAME), not "
                + orderApiUrls);
      }
      String target = hostNames.iterator().next();
      return List.of(
          new CNAMERecord(name, DClass.IN, ttlSeconds, absolute(target, "order API host")));
    }
    List<Record> records = new ArrayList<>();
    for (InetAddress ip : addresses) {
      records.add(
          Address.familyOf(ip) == Address.IPv4
              ? new ARecord(name, DClass.IN, ttlSeconds, ip)
              : new AAAARecord(name, DClass.IN, ttlSeconds, ip));
    }
    return List.copyOf(records);
  }

  private static String hostOf(String url) {
    try {
      URI u = new URI(url);
      if (u.getHost() == null) {
        throw new IllegalArgumentException("order API URL without a host: '" + url + "'");
      }
      return u.getHost();
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not an order API URL: '" + url + "'", e);
    }
  }

  /** The address if {@code host} is an IPv4 or (bracketed) IPv6 literal, else null. */
  static InetAddress ipLiteral(String host) {
    try {
      if (Address.isDottedQuad(host)) {
        return Address.getByAddress(host, Address.IPv4);
      }
      if (host.startsWith("[") && host.endsWith("]")) {
        return Address.getByAddress(host.substring(1, host.length() - 1), Address.IPv6);
      }
      return null;
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + host, e);
    }
  }

  /** The TXT value, e.g. {@code epoch=7 region=region-2}. */
  public static String epochText(long epoch, String region) {
    return "epoch=" + epoch + " region=" + region;
  }

  /** The epoch in a TXT value written by {@link #epochText}; empty if it is not one. */
  public static OptionalLong epochOf(String text) {
    Matcher m = EPOCH_TEXT.matcher(text.trim());
    return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
  }

  /** The region in a TXT value written by {@link #epochText}, or "" if none. */
  public static String regionOf(String text) {
    Matcher m = EPOCH_TEXT.matcher(text.trim());
    return m.matches() && m.group(2) != null ? m.group(2) : "";
  }

  /** Same owner, type, data and TTL, as sets (order and duplicates do not matter). */
  public static boolean sameRecords(Collection<Record> a, Collection<Record> b) {
    Set<Record> left = new HashSet<>(a); // Record equality ignores the TTL: compare it apart
    Set<Record> right = new HashSet<>(b);
    if (!left.equals(right)) {
      return false;
    }
    Set<String> leftTtls = new HashSet<>();
    Set<String> rightTtls = new HashSet<>();
    a.forEach(r -> leftTtls.add(r.getType() + "/" + r.getTTL()));
    b.forEach(r -> rightTtls.add(r.getType() + "/" + r.getTTL()));
    return leftTtls.equals(rightTtls);
  }

  /** E.g. {@code A 127.0.2.1,127.0.2.2} or {@code CNAME lb.example.}; {@code none} if empty. */
  public static String describe(Collection<Record> records) {
    Map<String, List<String>> byType = new LinkedHashMap<>();
    for (Record r : records) {
      byType.computeIfAbsent(Type.string(r.getType()), t -> new ArrayList<>()).add(rdata(r));
    }
    if (byType.isEmpty()) {
      return "none";
    }
    List<String> parts = new ArrayList<>();
    byType.forEach((type, data) -> parts.add(type + " " + String.join(",", data)));
    return String.join(" ", parts);
  }

  private static String rdata(Record r) {
    if (r instanceof ARecord a) {
      return a.getAddress().getHostAddress();
    }
    if (r instanceof AAAARecord a) {
      return a.getAddress().getHostAddress();
    }
    return r.rdataToString();
  }
}
