package dev.lb.config;

import static dev.lb.config.TreeReader.integerRange;
import static java.util.Objects.requireNonNull;
import static dev.lb.config.TreeReader.reject;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lb.config.LoggingConfig.LogFormat;
import dev.lb.config.RateLimitConfig.ClientLimit;
import dev.lb.config.RateLimitConfig.Limit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The configuration's rules: which keys each section has, what each value must be, and the checks across fields.
 * Reads a {@link YamlTree} into an {@link LbConfig} through a {@link TreeReader}, which collects every violation.
 */
final class ConfigBinder {
  static final List<String> TOP_KEYS =
      List.of(
          "listen",
          "admin",
          "backends",
          "balancing",
          "health_check",
          "proxy",
          "rate_limit",
          "store",
          "shutdown",
          "logging",
          "upstreams",
          "routes",
          "discovery",
          "config");
  static final List<String> CONFIG_FILE_KEYS = List.of("watch", "watch_interval", "watch_debounce");
  static final List<String> UPSTREAM_KEYS = List.of("backends", "balancing", "health_check", "rate_limit", "tls");
  static final List<String> UPSTREAM_RATE_LIMIT_KEYS = List.of("default");
  static final List<String> ROUTE_KEYS = List.of("host", "path_prefix", "upstream", "strip_prefix");
  static final List<String> DISCOVERY_KEYS = List.of("resolvers", "min_refresh", "max_refresh", "nx_hold", "timeout");
  static final List<String> LISTEN_KEYS =
      List.of("host", "port", "workers", "max_connections", "transport", "tls", "h2c", "http2");
  static final List<String> HTTP2_KEYS = List.of("max_concurrent_streams", "max_header_list_size",
      "initial_window_size", "flood_window", "max_resets", "max_settings", "max_pings", "max_empty_data",
      "max_continuations");
  static final String TRANSPORT = "one of auto, io_uring, epoll, nio";
  static final List<String> ADMIN_KEYS = List.of("host", "port", "token");
  static final List<String> BACKEND_KEYS =
      List.of("url", "dns", "srv", "port", "weight", "max_connections", "name", "tls");
  static final List<String> BALANCING_KEYS = List.of("algorithm", "hash_key");
  static final List<String> HEALTH_CHECK_KEYS =
      List.of("enabled", "slow_start", "path", "interval", "timeout", "healthy_threshold", "unhealthy_threshold",
          "passive");
  static final List<String> PASSIVE_KEYS =
      List.of("enabled", "consecutive_errors", "count_5xx", "base_ejection_time", "max_ejection_time",
          "max_ejection_percent");
  static final List<String> PROXY_KEYS =
      List.of(
          "connect_timeout",
          "response_timeout",
          "idle_timeout",
          "request_header_timeout",
          "max_retries",
          "max_header_size",
          "max_body_size",
          "pool_idle_timeout",
          "pool_max_idle",
          "retry_backoff",
          "retry_budget",
          "queue");
  static final List<String> RETRY_BACKOFF_KEYS = List.of("base", "max");
  static final List<String> RETRY_BUDGET_KEYS = List.of("percent", "min_concurrent");
  static final List<String> QUEUE_KEYS = List.of("max_size", "timeout");
  static final List<String> RATE_LIMIT_KEYS =
      List.of("enabled", "client_key", "trusted_proxies", "headers", "default", "clients", "scope", "redis");
  static final List<String> REDIS_KEYS = List.of("url", "timeout", "failure_mode");
  static final String SCOPE = "local or cluster";
  static final String FAILURE_MODE = "local, open or closed";
  /** {@code rediss?-sentinel://[userinfo@]HOSTS[/db]#master}; group 1 the comma-separated sentinels. */
  private static final java.util.regex.Pattern SENTINEL_URL =
      java.util.regex.Pattern.compile("rediss?-sentinel://(?:[^#]*@)?([^@/#]+)(?:/[^#]*)?#.+");
  static final String REDIS_URL = "a redis:// or rediss:// URL with a host, or redis-sentinel://host:port[,host:port]"
      + "[/db]#master (rediss-sentinel:// for TLS)";
  static final List<String> LIMIT_KEYS = List.of("capacity", "rate_per_sec");
  static final List<String> CLIENT_KEYS = List.of("client_id", "capacity", "rate_per_sec");
  static final List<String> STORE_KEYS = List.of("url", "username", "password", "poll_interval");
  static final List<String> SHUTDOWN_KEYS = List.of("drain_delay", "grace_period");
  static final List<String> LOGGING_KEYS = List.of("access_log", "format");

  static final String HOST = "a host name or IP address";
  static final String PORT = integerRange(0, 65535);
  static final String PORTS_DIFFER = "a port different from listen.port, or 0";
  static final String BACKENDS = "a list of at least one backend";
  static final String BACKEND_ITEM =
      "a backend URL or a map with url (or dns and port, or srv), weight, max_connections, name and tls";
  static final String ONE_OF_URL_DNS_SRV = "exactly one of url, dns (with port) and srv";
  static final String DNS_NAME = "a DNS name such as api-hl.prod.svc.cluster.local";
  static final String SRV_NAME = "an SRV name such as _http._tcp.web-hl.prod.svc.cluster.local";
  static final String DNS_PORT = integerRange(1, 65535) + ", required with dns";
  static final String UPSTREAMS = "a map from upstream names to maps with keys " + String.join(", ", UPSTREAM_KEYS);
  static final String UPSTREAM_NAME =
      "an upstream name of 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or a digit";
  static final String ROUTES = "a list of maps with keys " + String.join(", ", ROUTE_KEYS);
  static final String ROUTE_HOST = "a host name, or *. and a domain such as *.example.com";
  static final String PATH_PREFIX = "a path in normal form starting with /";
  static final String RESOLVERS = "a list of name servers as host or host:port";
  static final String RESOLVER = "a name server's IP address, with :port if not 53 ([v6]:port for IPv6)";
  static final String BACKEND_NAME =
      "a name of 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or a digit";
  static final String NOT_BELOW = "a duration not shorter than ";
  static final String WEIGHT = integerRange(0, 256);
  static final String ALGORITHM =
      "one of " + Arrays.stream(Algorithm.values()).map(Algorithm::key).collect(Collectors.joining(", "));
  static final String HASH_KEY = "client_ip or header:NAME";
  static final String CLIENT_KEY = "ip or header:NAME";
  static final String HEADER_NAME = "header:NAME with NAME a valid HTTP header name";
  static final String HEALTH_PATH = "a path starting with / without spaces, control or non-ASCII characters";
  static final String TRUSTED_PROXIES = "a list of IP addresses or CIDRs";
  static final String TRUSTED_PROXY = "an IP address or CIDR such as 10.0.0.0/8 or ::1/128";
  static final String CAPACITY = integerRange(1, 1_000_000_000);
  static final String CLIENTS = "a list of maps with client_id, capacity, rate_per_sec";
  static final String CLIENT_ID = "a non-empty client id";
  static final String STORE_URL = "a JDBC URL starting with jdbc:h2: or jdbc:postgresql:";
  static final String LOG_FORMAT = "text or json";

  private final TreeReader reader;

  /** The {@code tls} blocks: the listener's, and those of backends and upstreams. */
  private final TlsBinder tls;

  private ConfigBinder(TreeReader reader) {
    this.reader = reader;
    this.tls = new TlsBinder(reader);
  }

  /** @throws ConfigException listing every violation, in document order */
  static LbConfig bind(YamlTree tree, Map<String, String> env) throws ConfigException {
    TreeReader reader = new TreeReader(tree, env);
    LbConfig config = new ConfigBinder(reader).config(reader.root(TOP_KEYS));
    reader.throwIfErrors();
    return config;
  }

  private LbConfig config(Section root) {
    ListenConfig listen = listen(root.section("listen", LISTEN_KEYS));
    AdminConfig admin = admin(root.section("admin", ADMIN_KEYS));
    boolean named = root.get("upstreams") != null && root.get("upstreams").isObject()
        && !root.get("upstreams").isEmpty();
    Members members = members(root, !named, null);
    BalancingConfig balancing = balancing(root.section("balancing", BALANCING_KEYS), BalancingConfig.defaults());
    HealthCheckConfig healthCheck =
        healthCheck(root.section("health_check", HEALTH_CHECK_KEYS), HealthCheckConfig.defaults());
    ProxyConfig proxy = proxy(root.section("proxy", PROXY_KEYS));
    RateLimitConfig rateLimit = rateLimit(root.section("rate_limit", RATE_LIMIT_KEYS));
    StoreConfig store = store(root.section("store", STORE_KEYS));
    ShutdownConfig shutdown = shutdown(root.section("shutdown", SHUTDOWN_KEYS));
    LoggingConfig logging = logging(root.section("logging", LOGGING_KEYS));
    checkPorts(listen, admin);
    boolean hasDefault = !members.urls().isEmpty() || !members.dns().isEmpty();
    List<UpstreamConfig> upstreams = upstreams(root, balancing, healthCheck, hasDefault);
    List<RouteConfig> routes = routes(root, upstreams, hasDefault);
    DiscoveryConfig discovery = discovery(root.section("discovery", DISCOVERY_KEYS));
    ConfigFileConfig configFile = configFile(root.section("config", CONFIG_FILE_KEYS));
    return new LbConfig(listen, admin, members.urls(), balancing, healthCheck, proxy, rateLimit, store, shutdown,
        logging, members.dns(), upstreams, routes, discovery, configFile);
  }

  /** The backends of one list: those given by URL and those found in DNS. */
  private record Members(List<BackendConfig> urls, List<DnsBackendConfig> dns) {}

  private List<UpstreamConfig> upstreams(Section root, BalancingConfig balancing, HealthCheckConfig healthCheck,
      boolean hasDefault) {
    @Nullable JsonNode node = root.get("upstreams");
    if (node == null || node.isNull()) {
      return List.of();
    }
    String path = root.path("upstreams");
    if (!node.isObject()) {
      reader.error(path, TreeReader.render(node), UPSTREAMS);
      return List.of();
    }
    List<UpstreamConfig> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String name = e.getKey();
      String itemPath = TreeReader.child(path, name);
      if (!validName(name)) {
        reader.error(itemPath, TreeReader.render(name), UPSTREAM_NAME);
        continue;
      }
      if (name.equals(UpstreamConfig.DEFAULT) && hasDefault) {
        reader.error(itemPath, TreeReader.render(name),
            "a name other than default (the top-level backends are the upstream named default)");
        continue;
      }
      Section s = new Section(reader, itemPath, e.getValue(), UPSTREAM_KEYS);
      if (s.wrongType()) {
        continue;
      }
      TlsBinder.@Nullable UpstreamTls upstreamTls = s.get("tls") == null ? null : tls.upstream(s);
      Members members = members(s, true, upstreamTls);
      BalancingConfig b = balancing(s.section("balancing", BALANCING_KEYS), balancing);
      HealthCheckConfig hc = healthCheck(s.section("health_check", HEALTH_CHECK_KEYS), healthCheck);
      Section rl = s.section("rate_limit", UPSTREAM_RATE_LIMIT_KEYS);
      Limit limit = null;
      if (rl.get("default") != null) {
        Section ls = rl.section("default", LIMIT_KEYS);
        @Nullable Long capacity = ls.required("capacity", CAPACITY, TreeReader.integer(1, 1_000_000_000));
        @Nullable Double rate = ls.required("rate_per_sec", TreeReader.POSITIVE_NUMBER, TreeReader::positiveNumber);
        if (capacity != null && rate != null) {
          limit = new Limit(capacity, rate);
        }
      }
      out.add(new UpstreamConfig(name, members.urls(), members.dns(), b, hc, limit,
          upstreamTls == null ? null : upstreamTls.tls()));
    }
    return out;
  }

  private List<RouteConfig> routes(Section root, List<UpstreamConfig> upstreams, boolean hasDefault) {
    List<RouteConfig> out = new ArrayList<>();
    List<JsonNode> items = root.list("routes", ROUTES);
    java.util.Set<String> names = new java.util.HashSet<>();
    upstreams.forEach(u -> names.add(u.name()));
    if (hasDefault) {
      names.add(UpstreamConfig.DEFAULT);
    }
    for (Section s : maps(root, "routes", items, ROUTE_KEYS)) {
      @Nullable String host = s.value("host", null, ROUTE_HOST, ConfigBinder::routeHost);
      @Nullable String prefix = s.value("path_prefix", null, PATH_PREFIX, ConfigBinder::pathPrefix);
      String expected = names.isEmpty() ? "the name of an upstream (none is configured)"
          : "the name of an upstream: one of " + String.join(", ", new java.util.TreeSet<>(names));
      @Nullable String upstream = s.required("upstream", expected, text -> {
        if (!names.contains(text)) {
          throw reject(expected);
        }
        return text;
      });
      boolean strip = s.bool("strip_prefix", false);
      if (strip && prefix == null && s.get("path_prefix") == null) {
        reader.error(s.path("strip_prefix"), "true", "false without a path_prefix (there is nothing to strip)");
      }
      if (upstream != null && (!strip || prefix != null)) {
        out.add(new RouteConfig(host, prefix, upstream, strip));
      }
    }
    return out;
  }

  /** The items of a list of maps under {@code key}, each as a section; an item that is not a map is reported. */
  private List<Section> maps(Section parent, String key, List<JsonNode> items, List<String> keys) {
    List<Section> out = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      String itemPath = TreeReader.item(parent.path(key), i);
      JsonNode item = items.get(i);
      if (!item.isObject()) {
        reader.error(itemPath, TreeReader.render(item), "a map with keys " + String.join(", ", keys));
      } else {
        out.add(new Section(reader, itemPath, item, keys));
      }
    }
    return out;
  }

  private DiscoveryConfig discovery(Section s) {
    DiscoveryConfig d = DiscoveryConfig.defaults();
    List<String> resolvers = new ArrayList<>();
    List<JsonNode> items = s.list("resolvers", RESOLVERS);
    for (int i = 0; i < items.size(); i++) {
      @Nullable String r = reader.scalar(items.get(i), TreeReader.item(s.path("resolvers"), i), RESOLVER,
          ConfigBinder::resolver);
      if (r != null) {
        resolvers.add(r);
      }
    }
    java.time.Duration min = s.positiveDuration("min_refresh", d.minRefresh());
    java.time.Duration max = notBelow(s, "max_refresh", s.positiveDuration("max_refresh", d.maxRefresh()),
        "min_refresh", min);
    return new DiscoveryConfig(resolvers, min, max, s.duration("nx_hold", d.nxHold()),
        s.positiveDuration("timeout", d.timeout()));
  }

  private ListenConfig listen(Section s) {
    ListenConfig d = ListenConfig.defaults();
    return new ListenConfig(
        s.value("host", d.host(), HOST, ConfigBinder::host),
        s.integer("port", d.port(), 0, 65535),
        s.integer("workers", d.workers(), 0, 1024),
        s.integer("max_connections", d.maxConnections(), 1, 1_000_000),
        s.value("transport", d.transport(), TRANSPORT, text -> {
          for (ListenConfig.TransportChoice c : ListenConfig.TransportChoice.values()) {
            if (c.key().equals(text)) {
              return c;
            }
          }
          throw reject(TRANSPORT);
        }),
        tls.listen(s.section("tls", TlsBinder.LISTEN_TLS_KEYS)),
        s.bool("h2c", d.h2c()),
        http2(s.section("http2", HTTP2_KEYS)));
  }

  private Http2Config http2(Section s) {
    Http2Config d = Http2Config.defaults();
    int headerList = s.integer("max_header_list_size", d.maxHeaderListSize(), 1024, 1 << 20);
    // Enough CONTINUATION frames for the largest header block allowed, in the smallest frames a client may use.
    int fewest = (headerList + 16383) / 16384 - 1;
    return new Http2Config(
        s.integer("max_concurrent_streams", d.maxConcurrentStreams(), 1, 10_000),
        headerList,
        s.integer("initial_window_size", d.initialWindowSize(), 65_535, Integer.MAX_VALUE),
        s.positiveDuration("flood_window", d.floodWindow()),
        s.integer("max_resets", d.maxResets(), 1, 1_000_000),
        s.integer("max_settings", d.maxSettings(), 1, 1_000_000),
        s.integer("max_pings", d.maxPings(), 1, 1_000_000),
        s.integer("max_empty_data", d.maxEmptyData(), 1, 1_000_000),
        s.integer("max_continuations", Http2Config.continuationsFor(headerList), Math.max(1, fewest), 1_000));
  }

  private AdminConfig admin(Section s) {
    AdminConfig d = AdminConfig.defaults();
    return new AdminConfig(
        s.value("host", d.host(), HOST, ConfigBinder::host),
        s.integer("port", d.port(), 0, 65535),
        s.string("token", d.token()));
  }

  /** Both listeners cannot bind one port; 0 asks the system for a free one, which never clashes. */
  private void checkPorts(ListenConfig listen, AdminConfig admin) {
    if (listen.port() != 0
        && listen.port() == admin.port()
        && !reader.hasErrorOn("listen.port")
        && !reader.hasErrorOn("admin.port")) {
      reader.error("admin.port", Integer.toString(admin.port()), PORTS_DIFFER);
    }
  }

  /** Backend names are unique across every upstream: the admin API finds a backend by its name. */
  private final Map<String, String> backendNames = new HashMap<>();

  /** The {@code backends} list of the top level or of an upstream; {@code required}: at least one. */
  private Members members(Section parent, boolean required, TlsBinder.@Nullable UpstreamTls upstreamTls) {
    @Nullable JsonNode node = parent.get("backends");
    String path = parent.path("backends");
    if (node == null || !node.isArray() || node.isEmpty()) {
      boolean absent = node == null || node.isNull() || (node.isArray() && node.isEmpty());
      if (!parent.wrongType() && (required || !absent)) {
        reader.error(path, node == null ? TreeReader.MISSING : TreeReader.render(node),
            BACKENDS);
      }
      return new Members(List.of(), List.of());
    }
    List<BackendConfig> backends = new ArrayList<>();
    List<DnsBackendConfig> dns = new ArrayList<>();
    Map<String, String> seen = new HashMap<>();
    for (int i = 0; i < node.size(); i++) {
      String itemPath = TreeReader.item(path, i);
      JsonNode item = node.get(i);
      Addresses.@Nullable HttpUrl url;
      String urlPath;
      int weight = 1;
      int maxConnections = 0;
      String name = "";
      @Nullable Section itemSection = null;
      if (item.isObject()) {
        Section s = new Section(reader, itemPath, item, BACKEND_KEYS);
        itemSection = s;
        int kinds = (s.get("url") != null ? 1 : 0) + (s.get("dns") != null ? 1 : 0) + (s.get("srv") != null ? 1 : 0);
        if (kinds > 1) {
          reader.error(itemPath, TreeReader.render(item), ONE_OF_URL_DNS_SRV);
          continue;
        }
        weight = s.integer("weight", weight, 0, 256);
        maxConnections = s.integer("max_connections", maxConnections, 0, 1_000_000);
        if (kinds == 1 && s.get("url") == null) {
          DnsBackendConfig found = dnsBackend(s, weight, maxConnections, upstreamTls);
          if (found != null) {
            @Nullable String first = seen.putIfAbsent(found.describe(), itemPath);
            if (first != null) {
              reader.error(itemPath, TreeReader.render(item), "a name not already used by " + first);
            } else {
              dns.add(found);
            }
          }
          continue;
        }
        if (s.get("port") != null) {
          reader.error(s.path("port"), TreeReader.render(s.get("port")), "no port beside url (the URL gives it)");
        }
        urlPath = s.path("url");
        url = s.required("url", Addresses.BACKEND_URL, ConfigBinder::backendUrl);
        name = s.value("name", "", BACKEND_NAME, ConfigBinder::backendName);
        if (!name.isEmpty()) {
          @Nullable String named = backendNames.putIfAbsent(name, itemPath);
          if (named != null) {
            reader.error(s.path("name"), TreeReader.render(name), "a name not already used by " + named);
          }
        }
      } else if (item.isNull() || item.isContainerNode()) {
        reader.error(itemPath, TreeReader.render(item), BACKEND_ITEM);
        continue;
      } else {
        // A plain string is shorthand for {url: ..., weight: 1}.
        urlPath = itemPath;
        url = reader.scalar(item, itemPath, BACKEND_ITEM, ConfigBinder::backendUrl);
      }
      if (url == null) {
        continue;
      }
      TlsBinder.TlsChoice choice = tls.urlTls(itemSection, url, urlPath, upstreamTls);
      if (!choice.ok()) {
        continue;
      }
      @Nullable String first = seen.putIfAbsent(url.url(), itemPath);
      if (first != null) {
        reader.error(urlPath, TreeReader.render(url.written()), "a URL not already used by " + first);
      } else {
        backends.add(new BackendConfig(url.url(), url.host(), url.port(), weight, maxConnections, name, choice.tls()));
      }
    }
    return new Members(backends, dns);
  }

  private @Nullable DnsBackendConfig dnsBackend(Section s, int weight, int maxConnections,
      TlsBinder.@Nullable UpstreamTls upstreamTls) {
    if (s.get("name") != null) {
      reader.error(s.path("name"), TreeReader.render(s.get("name")),
          "no name beside dns or srv (each address found is named by its URL)");
    }
    TlsBinder.TlsChoice tls = this.tls.inheritedTls(s, upstreamTls, false);
    if (s.get("srv") != null) {
      if (s.get("port") != null) {
        reader.error(s.path("port"), TreeReader.render(s.get("port")), "no port beside srv (the records give it)");
      }
      @Nullable String name = s.required("srv", SRV_NAME, text -> dnsName(text, true));
      return name == null || !tls.ok() ? null
          : new DnsBackendConfig(DnsBackendConfig.Kind.SRV, name, 0, weight, maxConnections, tls.tls());
    }
    @Nullable String name = s.required("dns", DNS_NAME, text -> dnsName(text, false));
    @Nullable Long port = s.required("port", DNS_PORT, TreeReader.integer(1, 65535));
    return name == null || port == null || !tls.ok() ? null
        : new DnsBackendConfig(DnsBackendConfig.Kind.DNS, name, port.intValue(), weight, maxConnections, tls.tls());
  }

  /** A host name (labels of letters, digits, '-', '_'), lower-cased, without its trailing dot. */
  private static String dnsName(String text, boolean srv) {
    String name = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
    name = name.toLowerCase(Locale.ROOT);
    String expected = srv ? SRV_NAME : DNS_NAME;
    if (name.isEmpty() || name.length() > 253 || IpAddresses.bytes(name) != null) {
      throw reject(expected);
    }
    String[] labels = name.split("\\.", -1);
    for (String label : labels) {
      if (label.isEmpty() || label.length() > 63 || !label.chars().allMatch(
          c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
        throw reject(expected);
      }
    }
    if (srv && (labels.length < 3 || !labels[0].startsWith("_") || !labels[1].startsWith("_"))) {
      throw reject(expected);
    }
    return name;
  }

  private static String routeHost(String text) {
    try {
      return requireNonNull(new dev.lb.route.RouteSpec(text, null, "-", false).host());
    } catch (IllegalArgumentException e) {
      throw reject(ROUTE_HOST);
    }
  }

  private static String pathPrefix(String text) {
    try {
      new dev.lb.route.RouteSpec(null, text, "-", false);
      return text;
    } catch (IllegalArgumentException e) {
      // The route's words: "not in normal form; write it as /b", say.
      String why = e.getMessage();
      throw reject(PATH_PREFIX + ": " + why.substring(why.indexOf(": ") + 2));
    }
  }

  private static String resolver(String text) {
    try {
      DiscoveryConfig.nameServer(text);
      return text;
    } catch (IllegalArgumentException e) {
      throw reject(RESOLVER);
    }
  }

  private static boolean validName(String text) {
    try {
      backendName(text);
      return true;
    } catch (TreeReader.Rejected e) {
      return false;
    }
  }

  private static String backendName(String text) {
    if (text.isEmpty() || text.length() > 64 || !Character.isLetterOrDigit(text.charAt(0))) {
      throw new TreeReader.Rejected(BACKEND_NAME);
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
          || c == '-';
      if (!ok) {
        throw new TreeReader.Rejected(BACKEND_NAME);
      }
    }
    return text;
  }

  private BalancingConfig balancing(Section s, BalancingConfig d) {
    return new BalancingConfig(
        s.value("algorithm", d.algorithm(), ALGORITHM, ConfigBinder::algorithm),
        s.value("hash_key", d.hashKey(), HASH_KEY, text -> keySource(text, "client_ip", HASH_KEY)));
  }

  private HealthCheckConfig healthCheck(Section s, HealthCheckConfig d) {
    return new HealthCheckConfig(
        s.bool("enabled", d.enabled()),
        s.duration("slow_start", d.slowStart()),
        s.value("path", d.path(), HEALTH_PATH, ConfigBinder::healthPath),
        s.positiveDuration("interval", d.interval()),
        s.positiveDuration("timeout", d.timeout()),
        s.integer("healthy_threshold", d.healthyThreshold(), 1, 100),
        s.integer("unhealthy_threshold", d.unhealthyThreshold(), 1, 100),
        passive(s.section("passive", PASSIVE_KEYS), d.passive()));
  }

  private PassiveHealthConfig passive(Section s, PassiveHealthConfig d) {
    java.time.Duration base = s.positiveDuration("base_ejection_time", d.baseEjectionTime());
    java.time.Duration max = s.positiveDuration("max_ejection_time", d.maxEjectionTime());
    max = notBelow(s, "max_ejection_time", max, "base_ejection_time", base);
    return new PassiveHealthConfig(
        s.bool("enabled", d.enabled()),
        s.integer("consecutive_errors", d.consecutiveErrors(), 1, 1000),
        s.bool("count_5xx", d.count5xx()),
        base,
        max,
        s.integer("max_ejection_percent", d.maxEjectionPercent(), 0, 100));
  }

  /** {@code value}, or {@code floor} after an error when it is shorter than the sibling {@code floorKey}. */
  private java.time.Duration notBelow(
      Section s, String key, java.time.Duration value, String floorKey, java.time.Duration floor) {
    if (value.compareTo(floor) < 0 && !reader.hasErrorOn(s.path(key)) && !reader.hasErrorOn(s.path(floorKey))) {
      reader.error(s.path(key), Durations.format(value), NOT_BELOW + floorKey + " (" + Durations.format(floor) + ")");
      return floor;
    }
    return value;
  }

  private ProxyConfig proxy(Section s) {
    ProxyConfig d = ProxyConfig.defaults();
    return new ProxyConfig(
        s.positiveDuration("connect_timeout", d.connectTimeout()),
        s.positiveDuration("response_timeout", d.responseTimeout()),
        s.positiveDuration("idle_timeout", d.idleTimeout()),
        s.positiveDuration("request_header_timeout", d.requestHeaderTimeout()),
        s.integer("max_retries", d.maxRetries(), 0, 10),
        s.integer("max_header_size", d.maxHeaderSize(), 1024, 1_048_576),
        s.integer("max_body_size", d.maxBodySize(), 0, Long.MAX_VALUE),
        s.positiveDuration("pool_idle_timeout", d.poolIdleTimeout()),
        s.integer("pool_max_idle", d.poolMaxIdle(), 0, 10_000),
        retryBackoff(s.section("retry_backoff", RETRY_BACKOFF_KEYS)),
        retryBudget(s.section("retry_budget", RETRY_BUDGET_KEYS)),
        queue(s.section("queue", QUEUE_KEYS)));
  }

  private ProxyConfig.RetryBackoff retryBackoff(Section s) {
    ProxyConfig.RetryBackoff d = ProxyConfig.RetryBackoff.defaults();
    java.time.Duration base = s.positiveDuration("base", d.base());
    java.time.Duration max = notBelow(s, "max", s.positiveDuration("max", d.max()), "base", base);
    return new ProxyConfig.RetryBackoff(base, max);
  }

  private ProxyConfig.RetryBudget retryBudget(Section s) {
    ProxyConfig.RetryBudget d = ProxyConfig.RetryBudget.defaults();
    return new ProxyConfig.RetryBudget(
        s.integer("percent", d.percent(), 0, 100),
        s.integer("min_concurrent", d.minConcurrent(), 0, 1_000_000));
  }

  private ProxyConfig.Queue queue(Section s) {
    ProxyConfig.Queue d = ProxyConfig.Queue.defaults();
    return new ProxyConfig.Queue(
        s.integer("max_size", d.maxSize(), 0, 1_000_000),
        s.positiveDuration("timeout", d.timeout()));
  }

  private RateLimitConfig rateLimit(Section s) {
    RateLimitConfig d = RateLimitConfig.defaults();
    boolean enabled = s.bool("enabled", d.enabled());
    KeySource clientKey = s.value("client_key", d.clientKey(), CLIENT_KEY, text -> keySource(text, "ip", CLIENT_KEY));
    List<String> trustedProxies = new ArrayList<>();
    List<JsonNode> proxies = s.list("trusted_proxies", TRUSTED_PROXIES);
    for (int i = 0; i < proxies.size(); i++) {
      @Nullable String proxy =
          reader.scalar(proxies.get(i), TreeReader.item(s.path("trusted_proxies"), i), TRUSTED_PROXY, text -> {
            if (!Addresses.isAddressOrCidr(text)) {
              throw reject(TRUSTED_PROXY);
            }
            return text;
          });
      if (proxy != null) {
        trustedProxies.add(proxy);
      }
    }
    boolean headers = s.bool("headers", d.headers());
    Section limitSection = s.section("default", LIMIT_KEYS);
    Limit defaultLimit =
        new Limit(
            limitSection.integer("capacity", d.defaultLimit().capacity(), 1, 1_000_000_000),
            limitSection.value(
                "rate_per_sec", d.defaultLimit().ratePerSec(), TreeReader.POSITIVE_NUMBER, TreeReader::positiveNumber));
    List<ClientLimit> clients = clients(s);
    RateLimitConfig.Scope scope = s.value("scope", d.scope(), SCOPE,
        text -> ConfigBinder.<RateLimitConfig.Scope>word(text, RateLimitConfig.Scope.class, SCOPE));
    Section redisSection = s.section("redis", REDIS_KEYS);
    RateLimitConfig.Redis dr = d.redis();
    RateLimitConfig.Redis redis = new RateLimitConfig.Redis(
        redisSection.value("url", dr.url(), REDIS_URL, ConfigBinder::redisUrl, ConfigPrinter::maskUrlUserInfo),
        redisSection.positiveDuration("timeout", dr.timeout()),
        redisSection.value("failure_mode", dr.failureMode(), FAILURE_MODE,
            text -> ConfigBinder.<RateLimitConfig.FailureMode>word(text, RateLimitConfig.FailureMode.class,
                FAILURE_MODE)));
    return new RateLimitConfig(enabled, clientKey, trustedProxies, headers, defaultLimit, clients, scope, redis);
  }

  /** One of an enum's constants, written in lower case. */
  private static <E extends Enum<E>> E word(String text, Class<E> type, String expected) {
    for (E e : type.getEnumConstants()) {
      if (e.name().toLowerCase(java.util.Locale.ROOT).equals(text)) {
        return e;
      }
    }
    throw reject(expected);
  }

  private static String redisUrl(String text) {
    if (text.startsWith("redis-sentinel://") || text.startsWith("rediss-sentinel://")) {
      // Several sentinels, comma-separated, and the master's name after '#': not a URI java.net parses with a host.
      java.util.regex.Matcher m = SENTINEL_URL.matcher(text);
      if (!m.matches()
          || java.util.Arrays.stream(m.group(1).split(",", -1)).anyMatch(h -> h.isEmpty() || h.startsWith(":"))) {
        throw reject(REDIS_URL);
      }
      return text;
    }
    java.net.URI uri;
    try {
      uri = new java.net.URI(text);
    } catch (java.net.URISyntaxException e) {
      throw reject(REDIS_URL);
    }
    if (!("redis".equals(uri.getScheme()) || "rediss".equals(uri.getScheme())) || uri.getHost() == null) {
      throw reject(REDIS_URL);
    }
    return text;
  }

  private List<ClientLimit> clients(Section rateLimit) {
    List<ClientLimit> clients = new ArrayList<>();
    Map<String, String> seen = new HashMap<>();
    List<JsonNode> items = rateLimit.list("clients", CLIENTS);
    for (Section s : maps(rateLimit, "clients", items, CLIENT_KEYS)) {
      String itemPath = s.path();
      @Nullable String id = s.required("client_id", CLIENT_ID, text -> {
        if (text.isBlank()) {
          throw reject(CLIENT_ID);
        }
        return text;
      });
      @Nullable Long capacity = s.required("capacity", CAPACITY, TreeReader.integer(1, 1_000_000_000));
      @Nullable Double rate = s.required("rate_per_sec", TreeReader.POSITIVE_NUMBER, TreeReader::positiveNumber);
      if (id == null) {
        continue;
      }
      @Nullable String first = seen.putIfAbsent(id, itemPath);
      if (first != null) {
        reader.error(s.path("client_id"), TreeReader.render(id), "a client_id not already used by " + first);
      } else if (capacity != null && rate != null) {
        clients.add(new ClientLimit(id, capacity, rate));
      }
    }
    return clients;
  }

  private StoreConfig store(Section s) {
    StoreConfig d = StoreConfig.defaults();
    return new StoreConfig(
        s.value("url", d.url(), STORE_URL, ConfigBinder::storeUrl, ConfigPrinter::maskUrlPassword),
        s.string("username", d.username()),
        s.string("password", d.password()),
        s.positiveDuration("poll_interval", d.pollInterval()));
  }

  private ShutdownConfig shutdown(Section s) {
    ShutdownConfig d = ShutdownConfig.defaults();
    return new ShutdownConfig(s.duration("drain_delay", d.drainDelay()), s.duration("grace_period", d.gracePeriod()));
  }

  private ConfigFileConfig configFile(Section s) {
    ConfigFileConfig d = ConfigFileConfig.defaults();
    return new ConfigFileConfig(s.bool("watch", d.watch()), s.positiveDuration("watch_interval", d.watchInterval()),
        s.duration("watch_debounce", d.watchDebounce()));
  }

  private LoggingConfig logging(Section s) {
    LoggingConfig d = LoggingConfig.defaults();
    return new LoggingConfig(
        s.bool("access_log", d.accessLog()), s.value("format", d.format(), LOG_FORMAT, ConfigBinder::logFormat));
  }

  // ---- rules of single values ----

  private static String host(String text) {
    if (!Addresses.isHost(text)) {
      throw reject(HOST);
    }
    return text;
  }

  private static Addresses.HttpUrl backendUrl(String text) {
    try {
      return Addresses.parseBackendUrl(text);
    } catch (IllegalArgumentException e) {
      throw reject(e.getMessage());
    }
  }

  private static Algorithm algorithm(String text) {
    for (Algorithm a : Algorithm.values()) {
      if (a.key().equals(text)) {
        return a;
      }
    }
    throw reject(ALGORITHM);
  }

  /** {@code address} (the client address) or {@code header:NAME}. */
  private static KeySource keySource(String text, String address, String expected) {
    if (text.equals(address)) {
      return KeySource.CLIENT_ADDRESS;
    }
    if (!text.startsWith("header:")) {
      throw reject(expected);
    }
    String name = text.substring("header:".length());
    if (!Addresses.isHeaderName(name)) {
      throw reject(HEADER_NAME);
    }
    return new KeySource(name);
  }

  private static String healthPath(String text) {
    if (!text.startsWith("/") || !text.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
      // Only printable ASCII can go into a request line as it stands.
      throw reject(HEALTH_PATH);
    }
    return text;
  }

  private static String storeUrl(String text) {
    if (!text.startsWith("jdbc:h2:") && !text.startsWith("jdbc:postgresql:")) {
      throw reject(STORE_URL);
    }
    return text;
  }

  private static LogFormat logFormat(String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "text" -> LogFormat.TEXT;
      case "json" -> LogFormat.JSON;
      default -> throw reject(LOG_FORMAT);
    };
  }
}
