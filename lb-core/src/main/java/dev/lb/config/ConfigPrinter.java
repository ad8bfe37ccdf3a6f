package dev.lb.config;

import dev.lb.tls.TlsConfig;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.lb.config.RateLimitConfig.ClientLimit;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Writes an {@link LbConfig} back as YAML in the shape {@link ConfigLoader} reads: snake_case keys in the order of the
 * documented configuration, durations such as {@code 2s}, key sources as {@code client_ip}, {@code ip} or
 * {@code header:NAME}. Without masking, the output loads back to an equal {@link LbConfig}.
 */
public final class ConfigPrinter {
  /** What a secret is replaced with. */
  public static final String MASK = "****";

  private static final Pattern URL_PASSWORD = Pattern.compile("(?i)(password=)[^;&]*");
  /** The password of a URL's user info: {@code scheme://[user]:password@}. */
  private static final Pattern URL_USER_INFO = Pattern.compile("^([a-z][a-z0-9+.-]*://[^:@/]*:)[^@/]*@");
  private static final YAMLMapper YAML =
      YAMLMapper.builder()
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
          // A token of "0123" must stay a string for any YAML reader, not become the number 83.
          .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
          .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
          .build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private ConfigPrinter() {}

  /**
   * The effective configuration as YAML.
   *
   * @param maskSecrets replace a non-empty {@code admin.token} and {@code store.password}, and a {@code password=}
   *     parameter of {@code store.url}, with {@value #MASK}
   */
  public static String toYaml(LbConfig config, boolean maskSecrets) {
    try {
      return YAML.writeValueAsString(toTree(config, maskSecrets));
    } catch (JsonProcessingException e) {
      // Writing a tree of plain values to a string does not fail.
      throw new UncheckedIOException(e);
    }
  }

  /** The effective configuration as a tree (for JSON), masked as {@link #toYaml} says. */
  public static ObjectNode toTree(LbConfig config, boolean maskSecrets) {
    return toTree(config, maskSecrets, false);
  }

  /**
   * As {@link #toTree(LbConfig, boolean)}; {@code digests} adds the SHA-256 (12 hex digits) of each TLS file's
   * contents to its path, so that {@link ConfigDiff} sees a file that changed under the same name.
   */
  static ObjectNode toTree(LbConfig config, boolean maskSecrets, boolean digests) {
    ObjectNode root = NODES.objectNode();

    ObjectNode listen = root.putObject("listen");
    text(listen, "host", config.listen().host());
    listen.put("port", config.listen().port());
    listen.put("workers", config.listen().workers());
    listen.put("max_connections", config.listen().maxConnections());
    text(listen, "transport", config.listen().transport().key());
    TlsConfig tls = config.listen().tls();
    if (tls != null) {
      ObjectNode t = listen.putObject("tls");
      text(t, "cert_file", tls.certificates().get(0).certFile());
      text(t, "key_file", tls.certificates().get(0).keyFile());
      if (tls.certificates().size() > 1) {
        ArrayNode more = t.putArray("certificates");
        for (TlsConfig.CertificateFiles f : tls.certificates().subList(1, tls.certificates().size())) {
          ObjectNode item = more.addObject();
          text(item, "cert_file", f.certFile());
          text(item, "key_file", f.keyFile());
        }
      }
      text(t, "min_version", tls.minVersion());
      ArrayNode ciphers = t.putArray("ciphers");
      tls.ciphers().forEach(ciphers::add);
      ArrayNode alpn = t.putArray("alpn");
      tls.alpn().forEach(alpn::add);
      duration(t, "watch_interval", tls.watchInterval());
    }
    listen.put("h2c", config.listen().h2c());
    Http2Config h2 = config.listen().http2();
    ObjectNode http2 = listen.putObject("http2");
    http2.put("max_concurrent_streams", h2.maxConcurrentStreams());
    http2.put("max_header_list_size", h2.maxHeaderListSize());
    http2.put("initial_window_size", h2.initialWindowSize());
    duration(http2, "flood_window", h2.floodWindow());
    http2.put("max_resets", h2.maxResets());
    http2.put("max_settings", h2.maxSettings());
    http2.put("max_pings", h2.maxPings());
    http2.put("max_empty_data", h2.maxEmptyData());
    http2.put("max_continuations", h2.maxContinuations());

    ObjectNode admin = root.putObject("admin");
    text(admin, "host", config.admin().host());
    admin.put("port", config.admin().port());
    text(admin, "token", maskSecrets ? mask(config.admin().token()) : config.admin().token());

    backends(root.putArray("backends"), config.backends(), config.dnsBackends(), null, digests);

    balancing(root.putObject("balancing"), config.balancing());
    healthCheck(root.putObject("health_check"), config.healthCheck());


    ProxyConfig p = config.proxy();
    ObjectNode proxy = root.putObject("proxy");
    duration(proxy, "connect_timeout", p.connectTimeout());
    duration(proxy, "response_timeout", p.responseTimeout());
    duration(proxy, "idle_timeout", p.idleTimeout());
    duration(proxy, "request_header_timeout", p.requestHeaderTimeout());
    proxy.put("max_retries", p.maxRetries());
    proxy.put("max_header_size", p.maxHeaderSize());
    proxy.put("max_body_size", p.maxBodySize());
    duration(proxy, "pool_idle_timeout", p.poolIdleTimeout());
    proxy.put("pool_max_idle", p.poolMaxIdle());
    ObjectNode backoff = proxy.putObject("retry_backoff");
    duration(backoff, "base", p.retryBackoff().base());
    duration(backoff, "max", p.retryBackoff().max());
    ObjectNode budget = proxy.putObject("retry_budget");
    budget.put("percent", p.retryBudget().percent());
    budget.put("min_concurrent", p.retryBudget().minConcurrent());
    ObjectNode queue = proxy.putObject("queue");
    queue.put("max_size", p.queue().maxSize());
    duration(queue, "timeout", p.queue().timeout());

    RateLimitConfig rl = config.rateLimit();
    ObjectNode rateLimit = root.putObject("rate_limit");
    rateLimit.put("enabled", rl.enabled());
    text(rateLimit, "client_key", keySource(rl.clientKey(), "ip"));
    ArrayNode trusted = rateLimit.putArray("trusted_proxies");
    rl.trustedProxies().forEach(cidr -> trusted.add(EnvSubstitution.escape(cidr)));
    rateLimit.put("headers", rl.headers());
    ObjectNode defaultLimit = rateLimit.putObject("default");
    defaultLimit.put("capacity", rl.defaultLimit().capacity());
    rate(defaultLimit, rl.defaultLimit().ratePerSec());
    ArrayNode clients = rateLimit.putArray("clients");
    for (ClientLimit client : rl.clients()) {
      ObjectNode item = clients.addObject();
      text(item, "client_id", client.clientId());
      item.put("capacity", client.capacity());
      rate(item, client.ratePerSec());
    }
    text(rateLimit, "scope", rl.scope().name().toLowerCase(Locale.ROOT));
    ObjectNode redis = rateLimit.putObject("redis");
    text(redis, "url", maskSecrets ? maskUrlUserInfo(rl.redis().url()) : rl.redis().url());
    duration(redis, "timeout", rl.redis().timeout());
    text(redis, "failure_mode", rl.redis().failureMode().name().toLowerCase(Locale.ROOT));

    StoreConfig st = config.store();
    ObjectNode store = root.putObject("store");
    text(store, "url", maskSecrets ? maskUrlPassword(st.url()) : st.url());
    text(store, "username", st.username());
    text(store, "password", maskSecrets ? mask(st.password()) : st.password());
    duration(store, "poll_interval", st.pollInterval());

    ObjectNode shutdown = root.putObject("shutdown");
    duration(shutdown, "drain_delay", config.shutdown().drainDelay());
    duration(shutdown, "grace_period", config.shutdown().gracePeriod());

    ObjectNode logging = root.putObject("logging");
    logging.put("access_log", config.logging().accessLog());
    text(logging, "format", config.logging().format().name().toLowerCase(Locale.ROOT));

    if (!config.upstreams().isEmpty()) {
      ObjectNode upstreams = root.putObject("upstreams");
      for (UpstreamConfig u : config.upstreams()) {
        ObjectNode item = upstreams.putObject(u.name());
        backends(item.putArray("backends"), u.backends(), u.dns(), u.tls(), digests);
        balancing(item.putObject("balancing"), u.balancing());
        healthCheck(item.putObject("health_check"), u.healthCheck());
        if (u.rateLimit() != null) {
          ObjectNode limit = item.putObject("rate_limit").putObject("default");
          limit.put("capacity", u.rateLimit().capacity());
          rate(limit, u.rateLimit().ratePerSec());
        }
        if (u.tls() != null) {
          tls(item.putObject("tls"), u.tls(), digests);
        }
      }
    }
    if (!config.routes().isEmpty()) {
      ArrayNode routes = root.putArray("routes");
      for (RouteConfig r : config.routes()) {
        ObjectNode item = routes.addObject();
        if (r.host() != null) {
          text(item, "host", r.host());
        }
        if (r.pathPrefix() != null) {
          text(item, "path_prefix", r.pathPrefix());
        }
        text(item, "upstream", r.upstream());
        item.put("strip_prefix", r.stripPrefix());
      }
    }
    DiscoveryConfig dc = config.discovery();
    ObjectNode discovery = root.putObject("discovery");
    ArrayNode resolvers = discovery.putArray("resolvers");
    dc.resolvers().forEach(resolvers::add);
    duration(discovery, "min_refresh", dc.minRefresh());
    duration(discovery, "max_refresh", dc.maxRefresh());
    duration(discovery, "nx_hold", dc.nxHold());
    duration(discovery, "timeout", dc.timeout());

    ObjectNode configFile = root.putObject("config");
    configFile.put("watch", config.configFile().watch());
    duration(configFile, "watch_interval", config.configFile().watchInterval());
    duration(configFile, "watch_debounce", config.configFile().watchDebounce());
    return root;
  }

  /**
   * The backends of a list; a backend's {@code tls} block is written when its settings differ from what it would
   * inherit (its upstream's block, else the defaults), so that each loads back to itself.
   */
  private static void backends(ArrayNode out, java.util.List<BackendConfig> urls,
      java.util.List<DnsBackendConfig> dns, @org.jspecify.annotations.Nullable BackendTlsConfig upstreamTls,
      boolean digests) {
    for (BackendConfig backend : urls) {
      ObjectNode item = out.addObject();
      text(item, "url", backend.url());
      if (!backend.name().isEmpty()) {
        text(item, "name", backend.name());
      }
      item.put("weight", backend.weight());
      if (backend.maxConnections() > 0) {
        // Written only when set, so that the backends of most configurations print (and diff) as before.
        item.put("max_connections", backend.maxConnections());
      }
      BackendTlsConfig tls = backend.tls();
      if (tls != null && !tls.keys().equals(
          upstreamTls != null ? upstreamTls.keys() : BackendTlsConfig.DEFAULT_KEYS)) {
        tls(item.putObject("tls"), tls, digests);
      }
    }
    for (DnsBackendConfig d : dns) {
      ObjectNode item = out.addObject();
      if (d.kind() == DnsBackendConfig.Kind.SRV) {
        text(item, "srv", d.name());
      } else {
        text(item, "dns", d.name());
        item.put("port", d.port());
      }
      item.put("weight", d.weight());
      if (d.maxConnections() > 0) {
        item.put("max_connections", d.maxConnections());
      }
      BackendTlsConfig tls = d.tls();
      if (tls != null && (upstreamTls == null || !tls.keys().equals(upstreamTls.keys()))) {
        // Without an upstream block, even the default keys: the block is what makes the members TLS.
        tls(item.putObject("tls"), tls, digests);
      }
    }
  }

  /**
   * A {@code tls} block: every key that is set, and {@code insecure_skip_verify}; but no {@code ca_file} beside
   * {@code insecure_skip_verify: true} (a backend's block then inherits it from its upstream's: one block may not
   * have both).
   */
  private static void tls(ObjectNode out, BackendTlsConfig tls, boolean digests) {
    if (!tls.insecureSkipVerify()) {
      file(out, "ca_file", tls.caFile(), digests ? tls.client().digest(dev.lb.tls.ClientTls.Part.CA_FILE) : "");
    }
    out.put("insecure_skip_verify", tls.insecureSkipVerify());
    file(out, "client_cert_file", tls.clientCertFile(),
        digests ? tls.client().digest(dev.lb.tls.ClientTls.Part.CLIENT_CERT_FILE) : "");
    file(out, "client_key_file", tls.clientKeyFile(),
        digests ? tls.client().digest(dev.lb.tls.ClientTls.Part.CLIENT_KEY_FILE) : "");
    if (!tls.serverName().isEmpty()) {
      text(out, "server_name", tls.serverName());
    }
  }

  private static void file(ObjectNode out, String key, String path, String digest) {
    if (!path.isEmpty()) {
      text(out, key, digest.isEmpty() ? path : path + " (sha256 " + digest + ")");
    }
  }

  private static void balancing(ObjectNode balancing, BalancingConfig b) {
    text(balancing, "algorithm", b.algorithm().key());
    text(balancing, "hash_key", keySource(b.hashKey(), "client_ip"));
  }

  private static void healthCheck(ObjectNode health, HealthCheckConfig hc) {
    health.put("enabled", hc.enabled());
    duration(health, "slow_start", hc.slowStart());
    text(health, "path", hc.path());
    duration(health, "interval", hc.interval());
    duration(health, "timeout", hc.timeout());
    health.put("healthy_threshold", hc.healthyThreshold());
    health.put("unhealthy_threshold", hc.unhealthyThreshold());
    PassiveHealthConfig pc = hc.passive();
    ObjectNode passive = health.putObject("passive");
    passive.put("enabled", pc.enabled());
    passive.put("consecutive_errors", pc.consecutiveErrors());
    passive.put("count_5xx", pc.count5xx());
    duration(passive, "base_ejection_time", pc.baseEjectionTime());
    duration(passive, "max_ejection_time", pc.maxEjectionTime());
    passive.put("max_ejection_percent", pc.maxEjectionPercent());

  }

  /** {@code url} with the password of its user info ({@code redis://user:password@host}) replaced by {@value #MASK}. */
  public static String maskUrlUserInfo(String url) {
    return URL_USER_INFO.matcher(url).replaceAll("$1" + MASK + "@");
  }

  /** {@code url} with the value of any {@code password=} parameter replaced by {@value #MASK}. */
  public static String maskUrlPassword(String url) {
    return URL_PASSWORD.matcher(url).replaceAll("$1" + MASK);
  }

  private static String mask(String secret) {
    return secret.isEmpty() ? secret : MASK;
  }

  /** Strings are read back through {@code ${...}} substitution, so a literal "${" is escaped. */
  private static void text(ObjectNode node, String key, String value) {
    node.put(key, EnvSubstitution.escape(value));
  }

  private static void duration(ObjectNode node, String key, Duration value) {
    node.put(key, Durations.format(value));
  }

  private static String keySource(KeySource source, String address) {
    return source.header() == null ? address : "header:" + source.header();
  }

  /** A whole rate as an integer ({@code 10}, not {@code 10.0}); any other as the shortest exact decimal. */
  private static void rate(ObjectNode node, double rate) {
    if (rate == Math.rint(rate) && Math.abs(rate) < 1e15) {
      node.put("rate_per_sec", (long) rate);
    } else {
      node.put("rate_per_sec", rate);
    }
  }
}
