package dev.lb.discovery;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * One resolution of a {@link DnsTarget}: raw queries (so that TTLs and response codes are seen) through a resolver
 * without caches, on the resolver's event loop. The futures returned never fail: every failure is an
 * {@link Outcome.Kind#FAILURE}.
 *
 * <p>Addresses are the A and AAAA records of a response's answer section, whatever their owner name (a recursive
 * server puts the CNAME chain there too; every record's TTL counts). SRV targets take their addresses from the
 * response's additional section when it has any for them, else from queries of their own.
 */
final class DnsLookup {
  private final DnsNameResolver resolver;
  private final EventLoop loop;

  DnsLookup(DnsNameResolver resolver, EventLoop loop) {
    this.resolver = resolver;
    this.loop = loop;
  }

  /** A service record: the target's name (lower case, no trailing dot) and, where it came along, its addresses. */
  private record Service(String target, int port, int weight, Outcome<String> glue) {}

  /** Decodes the data of one record of the type asked for; null to skip it. */
  private interface Decoder<T> {
    @Nullable T decode(DnsRawRecord record, DnsResponse response);
  }

  /** The target's members; on the loop. */
  Future<Outcome<Member>> resolve(DnsTarget target) {
    Promise<Outcome<Member>> done = loop.newPromise();
    if (target instanceof DnsTarget.Address a) {
      addresses(a.name()).addListener((Future<Outcome<String>> f) -> {
        Outcome<String> ips = f.getNow();
        done.setSuccess(ips.kind() != Outcome.Kind.ANSWER ? ips.withoutItems()
            : Outcome.answer(distinct(ips.items().stream().map(ip -> new Member(ip, a.port(), a.weight())).toList()),
                ips.ttlSeconds()));
      });
    } else {
      query(target.name(), DnsRecordType.SRV, DnsLookup::service)
          .addListener((Future<Outcome<Service>> f) -> services(f.getNow(), done));
    }
    return done;
  }

  private void services(Outcome<Service> services, Promise<Outcome<Member>> done) {
    if (services.kind() != Outcome.Kind.ANSWER) {
      done.setSuccess(services.withoutItems());
      return;
    }
    Map<String, Future<Outcome<String>>> targets = new LinkedHashMap<>();
    for (Service s : services.items()) {
      targets.computeIfAbsent(s.target(),
          t -> s.glue().kind() == Outcome.Kind.ANSWER ? loop.newSucceededFuture(s.glue()) : addresses(t));
    }
    all(targets.values()).addListener(f -> {
      List<Member> members = new ArrayList<>();
      long ttl = services.ttlSeconds();
      for (Service s : services.items()) {
        Outcome<String> ips = targets.get(s.target()).getNow();
        if (ips.kind() == Outcome.Kind.FAILURE) {
          done.setSuccess(Outcome.failure(ips.detail() + " for " + s.target()));
          return;
        }
        if (ips.kind() == Outcome.Kind.ANSWER) {
          ttl = Math.min(ttl, ips.ttlSeconds());
          for (String ip : ips.items()) {
            members.add(new Member(ip, s.port(), Member.clampWeight(s.weight())));
          }
        }
      }
      done.setSuccess(members.isEmpty() ? Outcome.negative("no addresses for the SRV targets")
          : Outcome.answer(distinct(members), ttl));
    });
  }

  /** A and AAAA records of {@code name}, asked for at once. */
  private Future<Outcome<String>> addresses(String name) {
    List<Future<Outcome<String>>> both =
        List.of(query(name, DnsRecordType.A, DnsLookup::ip), query(name, DnsRecordType.AAAA, DnsLookup::ip));
    Promise<Outcome<String>> done = loop.newPromise();
    all(both).addListener(f -> done.setSuccess(Outcome.union(both.stream().map(Future::getNow).toList())));
    return done;
  }

  private <T> Future<Outcome<T>> query(String name, DnsRecordType type, Decoder<T> decoder) {
    Promise<Outcome<T>> done = loop.newPromise();
    resolver.query(new DefaultDnsQuestion(name, type))
        .addListener((Future<AddressedEnvelope<DnsResponse, InetSocketAddress>> f) -> {
          if (!f.isSuccess()) {
            done.setSuccess(Outcome.failure(describe(f.cause())));
            return;
          }
          AddressedEnvelope<DnsResponse, InetSocketAddress> envelope = f.getNow();
          try {
            done.setSuccess(read(envelope.content(), type, decoder));
          } catch (RuntimeException e) {
            done.setSuccess(Outcome.failure("malformed answer from " + envelope.sender() + ": " + e.getMessage()));
          } finally {
            envelope.release();
          }
        });
    return done;
  }

  private static <T> Outcome<T> read(DnsResponse response, DnsRecordType type, Decoder<T> decoder) {
    DnsResponseCode code = response.code();
    if (code.equals(DnsResponseCode.NXDOMAIN)) {
      return Outcome.negative(Outcome.NXDOMAIN);
    }
    if (!code.equals(DnsResponseCode.NOERROR)) {
      return Outcome.failure(rcode(code));
    }
    List<T> items = new ArrayList<>();
    long ttl = Long.MAX_VALUE;
    for (int i = 0; i < response.count(DnsSection.ANSWER); i++) {
      DnsRecord record = response.recordAt(DnsSection.ANSWER, i);
      ttl = Math.min(ttl, record.timeToLive());
      if (record.type().equals(type) && record instanceof DnsRawRecord raw) {
        T item = decoder.decode(raw, response);
        if (item != null) {
          items.add(item);
        }
      }
    }
    return items.isEmpty() ? Outcome.negative(Outcome.NO_RECORDS) : Outcome.answer(items, ttl);
  }

  private static String ip(DnsRawRecord record, DnsResponse response) {
    ByteBuf data = record.content();
    int length = record.type().equals(DnsRecordType.A) ? 4 : 16;
    if (data.readableBytes() != length) {
      throw new IllegalArgumentException(record.type() + " record of " + data.readableBytes() + " bytes");
    }
    byte[] bytes = new byte[length];
    data.getBytes(data.readerIndex(), bytes);
    return NetUtil.bytesToIpAddress(bytes);
  }

  private static @Nullable Service service(DnsRawRecord record, DnsResponse response) {
    ByteBuf data = record.content();
    if (data.readableBytes() < 7) {
      throw new IllegalArgumentException("SRV record of " + data.readableBytes() + " bytes");
    }
    int weight = data.getUnsignedShort(data.readerIndex() + 2);
    int port = data.getUnsignedShort(data.readerIndex() + 4);
    // The content is the whole message with its reader index at the record's data, so compression pointers resolve.
    String target = name(DefaultDnsRecordDecoder.decodeName(data.duplicate().skipBytes(6)));
    if (port == 0 || target.isEmpty()) {
      return null; // RFC 2782: target "." means the service is not offered here.
    }
    List<Outcome<String>> glue = new ArrayList<>();
    for (int i = 0; i < response.count(DnsSection.ADDITIONAL); i++) {
      DnsRecord extra = response.recordAt(DnsSection.ADDITIONAL, i);
      boolean address = extra.type().equals(DnsRecordType.A) || extra.type().equals(DnsRecordType.AAAA);
      if (address && extra instanceof DnsRawRecord raw && name(extra.name()).equals(target)) {
        glue.add(Outcome.answer(List.of(ip(raw, response)), extra.timeToLive()));
      }
    }
    return new Service(target, port, weight, Outcome.union(glue));
  }

  /** Lower case, without the trailing dot; the root is empty. */
  private static String name(String name) {
    String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    return n.toLowerCase(Locale.ROOT);
  }

  /** The same address and port once (with the larger weight, should two records differ), sorted. */
  private static List<Member> distinct(List<Member> members) {
    Map<String, Member> byAddress = new TreeMap<>();
    for (Member m : members) {
      byAddress.merge(m.hostPort(), m, (a, b) -> a.weight() >= b.weight() ? a : b);
    }
    return byAddress.values().stream().sorted().toList();
  }

  private static String rcode(DnsResponseCode code) {
    return switch (code.intValue()) {
      case 1 -> "FORMERR";
      case 2 -> "SERVFAIL";
      case 4 -> "NOTIMP";
      case 5 -> "REFUSED";
      default -> "response code " + code.intValue();
    };
  }

  private static String describe(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof DnsNameResolverTimeoutException) {
        return "timeout";
      }
    }
    Throwable root = failure;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
  }

  /** Completes (on the loop) when all have; the futures here never fail. */
  private <T> Future<Void> all(Collection<? extends Future<T>> futures) {
    Promise<Void> done = loop.newPromise();
    int[] left = {futures.size()};
    if (left[0] == 0) {
      done.setSuccess(null);
    }
    for (Future<T> f : futures) {
      f.addListener(x -> {
        if (--left[0] == 0) {
          done.setSuccess(null);
        }
      });
    }
    return done;
  }
}
