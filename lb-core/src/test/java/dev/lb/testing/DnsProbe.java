package dev.lb.testing;

import io.netty.util.NetUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * A blocking DNS client for test threads, independent of the code under test: one UDP query, the response code and
 * the addresses of the answer. Enough to see what {@link Dnsmasq} serves.
 */
final class DnsProbe {
  private static final int A = 1;
  private static final int AAAA = 28;
  private static final int TIMEOUT_MILLIS = 1000;

  /** What one query came to. */
  private record Reply(int rcode, Set<String> addresses) {}

  private DnsProbe() {}

  /** The response code of an A query for {@code name}, or -1 when no answer came. */
  static int rcode(InetSocketAddress server, String name) throws IOException {
    Reply reply = query(server, name, A);
    return reply == null ? -1 : reply.rcode();
  }

  /** The addresses of the A and AAAA records of {@code name} (empty for NXDOMAIN), or null when an answer is missing. */
  static @Nullable Set<String> addresses(InetSocketAddress server, String name) throws IOException {
    Reply v4 = query(server, name, A);
    Reply v6 = query(server, name, AAAA);
    if (v4 == null || v6 == null) {
      return null;
    }
    Set<String> all = new TreeSet<>(v4.addresses());
    all.addAll(v6.addresses());
    return all;
  }

  private static @Nullable Reply query(InetSocketAddress server, String name, int type) throws IOException {
    int id = ThreadLocalRandom.current().nextInt(1 << 16);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) (id >> 8), (byte) id, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0});
    for (String label : name.split("\\.")) {
      byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
      out.write(bytes.length);
      out.writeBytes(bytes);
    }
    out.writeBytes(new byte[] {0, 0, (byte) type, 0, 1});
    byte[] query = out.toByteArray();
    try (DatagramSocket socket = new DatagramSocket()) {
      socket.setSoTimeout(TIMEOUT_MILLIS);
      socket.send(new DatagramPacket(query, query.length, server));
      byte[] buffer = new byte[4096];
      while (true) {
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        try {
          socket.receive(packet);
        } catch (SocketTimeoutException e) {
          return null;
        }
        ByteBuffer in = ByteBuffer.wrap(Arrays.copyOf(buffer, packet.getLength()));
        if (in.remaining() >= 12 && in.getShort(0) == (short) id) {
          return read(in);
        }
      }
    }
  }

  private static Reply read(ByteBuffer in) {
    int rcode = in.get(3) & 0x0f;
    int questions = in.getShort(4) & 0xffff;
    int answers = in.getShort(6) & 0xffff;
    in.position(12);
    for (int i = 0; i < questions; i++) {
      skipName(in);
      in.position(in.position() + 4);
    }
    Set<String> addresses = new TreeSet<>();
    for (int i = 0; i < answers; i++) {
      skipName(in);
      int type = in.getShort() & 0xffff;
      in.position(in.position() + 6); // class, TTL
      byte[] data = new byte[in.getShort() & 0xffff];
      in.get(data);
      if (type == A || type == AAAA) {
        addresses.add(NetUtil.bytesToIpAddress(data));
      }
    }
    return new Reply(rcode, addresses);
  }

  private static void skipName(ByteBuffer in) {
    while (true) {
      int length = in.get() & 0xff;
      if (length == 0) {
        return;
      }
      if ((length & 0xc0) == 0xc0) {
        in.get();
        return;
      }
      in.position(in.position() + length);
    }
  }
}
