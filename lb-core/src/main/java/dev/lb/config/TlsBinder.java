package dev.lb.config;

import static dev.lb.config.TreeReader.reject;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lb.tls.TlsConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The rules of the {@code tls} blocks, for {@link ConfigBinder}: the listener's ({@code listen.tls}: certificates read
 * and checked, versions, ciphers, ALPN) and those of backends, upstreams and DNS entries (inherited key by key, each
 * distinct set of files made into one client context). Violations go to the same {@link TreeReader}.
 */
final class TlsBinder {
  static final List<String> LISTEN_TLS_KEYS =
      List.of("cert_file", "key_file", "certificates", "min_version", "ciphers", "alpn", "watch_interval");
  static final List<String> CERTIFICATE_KEYS = List.of("cert_file", "key_file");
  static final String TLS_VERSION = "one of TLSv1.2, TLSv1.3";
  static final String ALPN = "a list of h2 and http/1.1";
  static final String CIPHER = "a cipher suite name the TLS provider supports (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)";
  static final List<String> TLS_KEYS =
      List.of("ca_file", "insecure_skip_verify", "client_cert_file", "client_key_file", "server_name");
  static final String TLS_FILE = "a file path (\"\" for none)";
  static final String SERVER_NAME = "a host name (or an IP address) to send as SNI and verify the certificate for";
  static final String CA_FILE = "a PEM file of CA certificates";
  static final String CLIENT_CERT_FILE = "a PEM file of the client certificate (then its chain)";
  static final String CLIENT_KEY_FILE = "a PEM file of the client certificate's private key";

  private final TreeReader reader;
  /** The TLS contexts made so far, by their keys without {@code server_name}; null for one whose files failed. */
  private final Map<BackendTlsConfig.Keys, dev.lb.tls.@Nullable ClientTls> tlsContexts = new HashMap<>();

  TlsBinder(TreeReader reader) {
    this.reader = reader;
  }

  /** The listener's {@code tls} block: null when there is none. */
  @Nullable TlsConfig listen(Section s) {
    if (s.get("cert_file") == null && s.get("key_file") == null && s.get("certificates") == null
        && s.get("min_version") == null && s.get("ciphers") == null && s.get("alpn") == null
        && s.get("watch_interval") == null) {
      return null;   // absent, empty or not a map (reported)
    }
    List<TlsConfig.CertificateFiles> certificates = new ArrayList<>();
    TlsConfig.CertificateFiles first = certificate(s);
    if (first != null) {
      certificates.add(first);
    }
    List<JsonNode> more = s.list("certificates", "a list of {cert_file, key_file}");
    for (int i = 0; i < more.size(); i++) {
      Section item = new Section(reader, TreeReader.item(s.path("certificates"), i), more.get(i), CERTIFICATE_KEYS);
      TlsConfig.CertificateFiles f = certificate(item);
      if (f != null) {
        certificates.add(f);
      }
    }
    String minVersion = s.value("min_version", TlsConfig.TLS_1_2, TLS_VERSION, text -> {
      if (text.equals(TlsConfig.TLS_1_2) || text.equals(TlsConfig.TLS_1_3)) {
        return text;
      }
      throw reject(TLS_VERSION);
    });
    List<String> ciphers = new ArrayList<>();
    List<JsonNode> cipherItems = s.list("ciphers", "a list of cipher suite names");
    for (int i = 0; i < cipherItems.size(); i++) {
      @Nullable String c = reader.scalar(cipherItems.get(i), TreeReader.item(s.path("ciphers"), i), CIPHER, text -> {
        if (!dev.lb.tls.TlsProvider.supportsCipher(text)) {
          throw reject(CIPHER);
        }
        return text;
      });
      if (c != null) {
        ciphers.add(c);
      }
    }
    List<String> alpn = new ArrayList<>();
    if (s.get("alpn") == null) {
      alpn.addAll(List.of(TlsConfig.H2, TlsConfig.HTTP_1_1));
    } else {
      List<JsonNode> items = s.list("alpn", ALPN);
      for (int i = 0; i < items.size(); i++) {
        @Nullable String p = reader.scalar(items.get(i), TreeReader.item(s.path("alpn"), i), ALPN, text -> {
          if ((text.equals(TlsConfig.H2) || text.equals(TlsConfig.HTTP_1_1)) && !alpn.contains(text)) {
            return text;
          }
          throw reject(ALPN + ", each once");
        });
        if (p != null) {
          alpn.add(p);
        }
      }
      if (items.isEmpty() && s.get("alpn").isArray()) {
        reader.error(s.path("alpn"), "[]", ALPN + " (at least one)");
      }
    }
    java.time.Duration watch = s.duration("watch_interval", java.time.Duration.ofSeconds(5));
    return new TlsConfig(certificates, minVersion, ciphers, alpn, watch);
  }

  /** {@code cert_file} and {@code key_file} of {@code s}, each read and checked; null after reporting a problem. */
  private TlsConfig.@Nullable CertificateFiles certificate(Section s) {
    @Nullable String cert = s.required("cert_file", "a PEM certificate chain file", text -> text);
    @Nullable String key = s.required("key_file", "a PEM private key file", text -> text);
    if (cert == null || key == null) {
      return null;
    }
    TlsConfig.CertificateFiles files = new TlsConfig.CertificateFiles(cert, key);
    try {
      dev.lb.tls.ServerTls.read(files, s.path().isEmpty() ? "" : s.path() + ".");
    } catch (dev.lb.tls.ServerTls.TlsException e) {
      reader.error(e.field(), TreeReader.render(e.value()), e.expected());
      return null;
    }
    return files;
  }

  /**
   * An upstream's {@code tls} block, which its backends inherit.
   *
   * @param keys its keys; null when the block has errors (already reported: its backends are not checked against it)
   * @param tls the settings with their context; null after an error
   */
  record UpstreamTls(String path, BackendTlsConfig.@Nullable Keys keys, @Nullable BackendTlsConfig tls) {}

  /** An upstream's {@code tls} block (there is one), read and its context made. */
  UpstreamTls upstream(Section upstream) {
    Section ts = upstream.section("tls", TLS_KEYS);
    BackendTlsConfig.@Nullable Keys keys = tlsKeys(ts, BackendTlsConfig.DEFAULT_KEYS);
    @Nullable BackendTlsConfig tls = keys == null ? null : tlsConfig(keys, ts);
    return new UpstreamTls(ts.path(), tls == null ? null : keys, tls);
  }

  /** The TLS settings of one backend: {@code ok} false after an error; {@code tls} null for plain HTTP. */
  record TlsChoice(boolean ok, @Nullable BackendTlsConfig tls) {
    static final TlsChoice PLAIN = new TlsChoice(true, null);
    static final TlsChoice FAILED = new TlsChoice(false, null);
  }

  /**
   * The TLS of a backend given by URL: an {@code https://} one gets its own {@code tls} block over its upstream's,
   * else its upstream's, else the defaults; an {@code http://} one may have no {@code tls} block, nor be in an
   * upstream that has one.
   */
  TlsChoice urlTls(@Nullable Section item, Addresses.HttpUrl url, String urlPath,
      @Nullable UpstreamTls upstream) {
    boolean own = item != null && item.get("tls") != null;
    if (!url.https()) {
      if (own) {
        reader.error(item.path("tls"), TreeReader.render(item.get("tls")),
            "no tls beside an http:// URL (write https:// to reach the backend over TLS)");
        return TlsChoice.FAILED;
      }
      if (upstream != null) {
        reader.error(urlPath, TreeReader.render(url.written()),
            "an https:// URL (" + upstream.path() + " makes every backend of the upstream a TLS one)");
        return TlsChoice.FAILED;
      }
      return TlsChoice.PLAIN;
    }
    return inheritedTls(item, upstream, true);
  }

  /**
   * The TLS settings in effect for a backend that speaks TLS or may: its own block over its upstream's.
   *
   * @param defaults whether a backend with neither block still speaks TLS with the default keys ({@code https://}),
   *     or not at all (a DNS entry)
   */
  TlsChoice inheritedTls(@Nullable Section item, @Nullable UpstreamTls upstream, boolean defaults) {
    boolean own = item != null && item.get("tls") != null;
    if (upstream != null && upstream.keys() == null) {
      // The upstream's block is wrong, and said so: nothing to add.
      if (own) {
        tlsKeys(item.section("tls", TLS_KEYS), BackendTlsConfig.DEFAULT_KEYS);
      }
      return TlsChoice.FAILED;
    }
    BackendTlsConfig.Keys inherited = upstream != null ? upstream.keys() : BackendTlsConfig.DEFAULT_KEYS;
    if (!own) {
      if (upstream == null && !defaults) {
        return TlsChoice.PLAIN;
      }
      // Made when the upstream's block was read, or the default context.
      @Nullable BackendTlsConfig tls = tlsConfig(inherited, null);
      return tls == null ? TlsChoice.FAILED : new TlsChoice(true, tls);
    }
    Section ts = item.section("tls", TLS_KEYS);
    BackendTlsConfig.@Nullable Keys keys = tlsKeys(ts, inherited);
    @Nullable BackendTlsConfig tls = keys == null ? null : tlsConfig(keys, ts);
    return tls == null ? TlsChoice.FAILED : new TlsChoice(true, tls);
  }

  /** The keys of a {@code tls} block, those not set taken from {@code inherited}; null after reporting an error. */
  private BackendTlsConfig.@Nullable Keys tlsKeys(Section s, BackendTlsConfig.Keys inherited) {
    if (s.wrongType()) {
      return null;
    }
    int errors = reader.errorCount();
    String ca = s.value("ca_file", inherited.caFile(), TLS_FILE, TlsBinder::tlsFile);
    boolean insecure = s.bool("insecure_skip_verify", inherited.insecureSkipVerify());
    String cert = s.value("client_cert_file", inherited.clientCertFile(), TLS_FILE, TlsBinder::tlsFile);
    String key = s.value("client_key_file", inherited.clientKeyFile(), TLS_FILE, TlsBinder::tlsFile);
    String serverName = s.value("server_name", inherited.serverName(), SERVER_NAME, TlsBinder::serverName);
    if (reader.errorCount() > errors) {
      return null;
    }
    if (cert.isEmpty() != key.isEmpty()) {
      String missing = cert.isEmpty() ? "client_cert_file" : "client_key_file";
      reader.error(s.path(missing), s.get(missing) == null ? TreeReader.MISSING : "\"\"",
          cert.isEmpty() ? "the client certificate of client_key_file: both or neither"
              : "the private key of client_cert_file: both or neither");
      return null;
    }
    if (insecure && !ca.isEmpty() && s.get("insecure_skip_verify") != null && s.get("ca_file") != null) {
      reader.error(s.path("insecure_skip_verify"), "true",
          "false beside ca_file (with true nothing is verified, so the CA would not be used)");
      return null;
    }
    return new BackendTlsConfig.Keys(ca, insecure, cert, key, serverName);
  }

  /**
   * The settings with their context, made once per distinct keys in this configuration; null when a file is wrong,
   * which is reported on {@code block}'s key (or was already, when the block is null: inherited keys).
   */
  private @Nullable BackendTlsConfig tlsConfig(BackendTlsConfig.Keys keys, @Nullable Section block) {
    BackendTlsConfig.Keys files = keys.withServerName("");
    dev.lb.tls.@Nullable ClientTls client;
    if (tlsContexts.containsKey(files)) {
      client = tlsContexts.get(files);
    } else {
      try {
        client = dev.lb.tls.ClientTls.load(path(keys.caFile()), keys.insecureSkipVerify(),
            path(keys.clientCertFile()), path(keys.clientKeyFile()));
      } catch (dev.lb.tls.ClientTls.FileException e) {
        client = null;
        if (block != null) {
          String key = switch (e.part()) {
            case CA_FILE -> "ca_file";
            case CLIENT_CERT_FILE -> "client_cert_file";
            case CLIENT_KEY_FILE -> "client_key_file";
          };
          String what = switch (e.part()) {
            case CA_FILE -> CA_FILE;
            case CLIENT_CERT_FILE -> CLIENT_CERT_FILE;
            case CLIENT_KEY_FILE -> CLIENT_KEY_FILE;
          };
          String value = switch (e.part()) {
            case CA_FILE -> keys.caFile();
            case CLIENT_CERT_FILE -> keys.clientCertFile();
            case CLIENT_KEY_FILE -> keys.clientKeyFile();
          };
          reader.error(block.path(key), TreeReader.render(value), what + ": " + e.getMessage());
        }
      }
      tlsContexts.put(files, client);
    }
    return client == null ? null : new BackendTlsConfig(keys.caFile(), keys.insecureSkipVerify(),
        keys.clientCertFile(), keys.clientKeyFile(), keys.serverName(), client);
  }

  private static java.nio.file.@Nullable Path path(String file) {
    return file.isEmpty() ? null : java.nio.file.Path.of(file);
  }

  private static String tlsFile(String text) {
    if (text.indexOf('\0') >= 0) {
      throw reject(TLS_FILE);
    }
    try {
      java.nio.file.Path.of(text);
    } catch (java.nio.file.InvalidPathException e) {
      throw reject(TLS_FILE);
    }
    return text;
  }

  private static String serverName(String text) {
    if (Addresses.isIpv4(text) || Addresses.isIpv6(text)) {
      return text;
    }
    if (!Addresses.isHostName(text)) {
      throw reject(SERVER_NAME);
    }
    return text.toLowerCase(Locale.ROOT);
  }
}
