package dev.lb.it;

import dev.lb.testing.TestCerts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** Clients of a TLS listener for tests: trusting one test CA, over real sockets. */
final class TlsClients {
  private TlsClients() {}

  /** A TLS context that trusts {@code ca} alone. */
  static SSLContext trusting(TestCerts.Ca ca) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    store.setCertificateEntry("ca", ca.certificate());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  /** An HTTP client preferring {@code version} (HTTP/2 is negotiated by ALPN), verifying against {@code ca}. */
  static HttpClient http(TestCerts.Ca ca, HttpClient.Version version) throws Exception {
    return HttpClient.newBuilder().sslContext(trusting(ca)).version(version)
        .connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** What a TLS connection to {@code port} asking for {@code serverName} got. */
  record Handshake(X509Certificate leaf, String protocol, String cipher, String alpn) {
    List<String> names() throws Exception {
      List<String> out = new ArrayList<>();
      for (List<?> e : leaf.getSubjectAlternativeNames()) {
        out.add(e.get(1).toString());
      }
      return out;
    }
  }

  /**
   * Connects to {@code port} on 127.0.0.1 asking for {@code serverName} (null: no SNI), offering {@code alpn}, and
   * returns what the handshake settled; trusts everything (it is the certificate that is looked at).
   */
  static Handshake handshake(int port, String serverName, String... alpn) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
      s.setSoTimeout(10_000);
      SSLParameters p = s.getSSLParameters();
      if (serverName != null) {
        p.setServerNames(List.of(new SNIHostName(serverName)));
      }
      if (alpn.length > 0) {
        p.setApplicationProtocols(alpn);
      }
      s.setSSLParameters(p);
      s.startHandshake();
      return new Handshake((X509Certificate) s.getSession().getPeerCertificates()[0], s.getSession().getProtocol(),
          s.getSession().getCipherSuite(), s.getApplicationProtocol());
    }
  }

  /** Output and exit code of a command run to its end. */
  record Run(int exit, String out) {}

  static Run run(Path dir, String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread pump = new Thread(() -> {
      try (InputStream in = p.getInputStream()) {
        in.transferTo(out);
      } catch (IOException e) {
        // The process ended.
      }
    });
    pump.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + String.join(" ", command));
    }
    pump.join(10_000);
    return new Run(p.exitValue(), out.toString(StandardCharsets.UTF_8));
  }

  /** Whether {@code program} is on the PATH. */
  static boolean installed(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (new java.io.File(dir, program).canExecute()) {
        return true;
      }
    }
    return false;
  }

  /** A plain GET over a fresh TLS connection with {@code Connection: close}; the status code. */
  static int getOnNewConnection(SSLContext ctx, int port, String host) throws IOException {
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
      s.setSoTimeout(20_000);
      SSLParameters p = s.getSSLParameters();
      p.setServerNames(List.of(new SNIHostName(host)));
      p.setEndpointIdentificationAlgorithm("HTTPS");
      s.setSSLParameters(p);
      OutputStream out = s.getOutputStream();
      out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      return Integer.parseInt(response.substring(9, 12));
    }
  }
}
