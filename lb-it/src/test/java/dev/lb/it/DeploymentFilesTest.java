package dev.lb.it;

import static dev.lb.it.DeployFiles.quantity;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.config.ConfigException;
import dev.lb.config.ConfigLoader;
import dev.lb.config.LbConfig;
import dev.lb.config.LoggingConfig.LogFormat;
import dev.lb.it.DeployFiles.Node;
import dev.lb.testing.TestCerts;
import dev.lb.tls.TlsConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes manifests ({@code config/k8s}), the compose try-out ({@code config/docker-compose.yaml},
 * {@code config/compose/lb.yaml}), the Prometheus configuration and the Grafana dashboard: each parses, has the kind
 * expected, and agrees with the others and with lb's own configuration: ports, probe paths, the stop timeline,
 * labels and selectors, secret names, scrape targets, metric names.
 */
class DeploymentFilesTest {
  private static final String K8S = "config/k8s/";

  /** Every file config/k8s may hold, with the apiVersion and kind of each of its documents. */
  private static final Map<String, List<String>> KINDS = Map.ofEntries(
      Map.entry("namespace.yaml", List.of("v1 Namespace")),
      Map.entry("configmap.yaml", List.of("v1 ConfigMap")),
      Map.entry("deployment.yaml", List.of("apps/v1 Deployment")),
      Map.entry("service.yaml", List.of("v1 Service", "v1 Service")),
      Map.entry("pdb.yaml", List.of("policy/v1 PodDisruptionBudget")),
      Map.entry("redis.yaml", List.of("apps/v1 Deployment", "v1 Service")),
      Map.entry("servicemonitor.yaml", List.of("monitoring.coreos.com/v1 ServiceMonitor")),
      Map.entry("secret.example.yaml", List.of("v1 Secret")),
      Map.entry("app-headless.example.yaml", List.of("v1 Service", "v1 Service")),
      Map.entry("certificate.example.yaml", List.of("cert-manager.io/v1 Certificate")),
      Map.entry("kustomization.yaml", List.of("kustomize.config.k8s.io/v1beta1 Kustomization")));

  /** Fake values for the variables the configurations read, as the Secret would give them. */
  private static final Map<String, String> ENV = Map.of(
      "LB_ADMIN_TOKEN", "test-admin-token",
      "LB_STORE_PASSWORD", "test-store-password");

  /** The metric names lb exports (and the dashboard may use), besides jvm_*, process_* and netty_*. */
  private static final Set<String> LB_METRICS = Set.of(
      "lb_requests_total",
      "lb_request_duration_seconds_bucket", "lb_request_duration_seconds_sum", "lb_request_duration_seconds_count",
      "lb_backend_up", "lb_backend_active_requests",
      "lb_retries_total", "lb_ratelimit_rejected_total",
      "lb_connections_active", "lb_connections_accepted_total", "lb_connections_refused_total",
      "lb_health_checks_total", "lb_reloads_total",
      "lb_ratelimit_mode", "lb_ratelimit_redis_duration_seconds_bucket", "lb_ratelimit_redis_calls_total",
      "lb_ratelimit_tokens_leased_total", "lb_ratelimit_tokens_returned_total");
  private static final List<String> OTHER_METRIC_PREFIXES = List.of("jvm_", "process_", "netty_");

  /** The keys of a {@code kubernetes.io/tls} Secret, which become the file names of its volume. */
  private static final Set<String> TLS_SECRET_KEYS = Set.of("tls.crt", "tls.key", "ca.crt");

  /**
   * Stands in for the Secret's volume: lb reads and checks {@code listen.tls}'s files when it loads a configuration,
   * so the ConfigMap's lb.yaml is loaded with its TLS directory pointed here, at a certificate and key made for the
   * test under the same file names (see {@link #k8sConfigText(boolean)}).
   */
  @TempDir
  static Path localTlsDir;

  @BeforeAll
  static void writeTheSecretsFilesLocally() {
    TestCerts.Ca ca = TestCerts.newCa("lb test CA");
    for (Node[] pair : configuredTlsFiles()) {
      ca.issue("lb.example").write(localTlsFile(pair[0]), localTlsFile(pair[1]));
    }
  }

  // --- config/k8s: every file, its kinds ---

  @Test
  void everyKubernetesFileIsYamlOfTheExpectedKinds() throws IOException {
    Set<String> present;
    try (Stream<Path> files = Files.list(DeployFiles.root().resolve(K8S))) {
      present = files.map(f -> f.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
    assertThat(present).as("files in %s (a new file needs its kinds in DeploymentFilesTest.KINDS)", K8S)
        .containsExactlyInAnyOrderElementsOf(KINDS.keySet());
    for (String name : present) {
      List<Node> docs = DeployFiles.yamlDocuments(K8S + name);
      List<String> kinds = docs.stream().map(d -> d.get("apiVersion").text() + " " + d.get("kind").text()).toList();
      assertThat(kinds).as("%s%s: apiVersion and kind of each document", K8S, name).isEqualTo(KINDS.get(name));
      for (Node doc : docs) {
        if (!doc.get("kind").text().equals("Kustomization")) {
          assertThat(doc.get("metadata.name").text()).as(doc.where() + ": metadata.name").isNotBlank();
          assertThat(doc.has("metadata.namespace"))
              .as(doc.where() + ": metadata.namespace (set once, by kustomization.yaml)").isFalse();
        }
      }
    }
  }

  // --- the ConfigMap's lb.yaml ---

  @Test
  void theConfigMapHoldsAProductionLikeLbConfig() throws ConfigException {
    LbConfig config = k8sConfig();
    String where = K8S + "configmap.yaml: data.lb.yaml: ";
    assertThat(config.dnsBackends()).as(where + "backends (found in DNS)").hasSize(1);
    Set<String> headless = new LinkedHashSet<>();
    for (Node service : DeployFiles.yamlDocuments(K8S + "app-headless.example.yaml")) {
      assertThat(service.get("spec.clusterIP").text()).as(service.where() + ": spec.clusterIP (headless)")
          .isEqualTo("None");
      headless.add(service.get("metadata.name").text());
    }
    List<String> names = new ArrayList<>();
    config.allUpstreams().forEach(u -> u.dns().forEach(d -> names.add(d.name())));
    assertThat(names).as(where + "DNS names of the headless Services of app-headless.example.yaml").hasSize(2)
        .allSatisfy(n -> assertThat(headless).anySatisfy(h -> assertThat(n).contains(h + ".apps.svc.")));
    assertThat(config.routes()).as(where + "routes").isNotEmpty();
    assertThat(config.healthCheck().enabled()).as(where + "health_check.enabled").isTrue();
    assertThat(config.rateLimit().enabled()).as(where + "rate_limit.enabled").isTrue();
    assertThat(config.store().url()).as(where + "store.url (shared by the replicas)").startsWith("jdbc:postgresql://");
    assertThat(config.store().password()).as(where + "store.password").isEqualTo(ENV.get("LB_STORE_PASSWORD"));
    assertThat(config.admin().token()).as(where + "admin.token").isEqualTo(ENV.get("LB_ADMIN_TOKEN"));
    assertThat(config.logging().format()).as(where + "logging.format").isEqualTo(LogFormat.JSON);
    assertThat(config.rateLimit().scope()).as(where + "rate_limit.scope (two replicas share one limit)")
        .isEqualTo(dev.lb.config.RateLimitConfig.Scope.CLUSTER);
    Node redisService = DeployFiles.yamlDocuments(K8S + "redis.yaml").get(1);
    URI redis = URI.create(config.rateLimit().redis().url());
    assertThat(redis.getHost()).as(where + "rate_limit.redis.url names the Service of redis.yaml")
        .isEqualTo(redisService.get("metadata.name").text());
    assertThat(redis.getPort()).as(where + "rate_limit.redis.url's port").isEqualTo(
        redisService.get("spec.ports[0].port").integer());
    assertThat(config.shutdown().drainDelay()).as(where + "shutdown.drain_delay").isPositive();
    // The kubelet probes the pod's IP, and Services send traffic to it.
    assertThat(config.listen().host()).as(where + "listen.host").isIn("0.0.0.0", "::");
    assertThat(config.admin().host()).as(where + "admin.host").isIn("0.0.0.0", "::");

    // The secrets have no defaults in the file: without the Secret, lb refuses to start.
    assertThatThrownBy(() -> ConfigLoader.parse(k8sConfigText(true), Map.of()))
        .as(where + "without LB_ADMIN_TOKEN and LB_STORE_PASSWORD")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("LB_ADMIN_TOKEN")
        .hasMessageContaining("LB_STORE_PASSWORD");
  }

  @Test
  void everyVariableTheConfigMapReadsIsSetByTheDeployment() {
    Set<String> env = new LinkedHashSet<>();
    for (Node e : lbContainer().get("env").items()) {
      env.add(e.get("name").text());
    }
    for (String variable : variablesWithoutDefault(k8sConfigText())) {
      assertThat(env).as(K8S + "deployment.yaml: containers[name=lb].env must set %s, which %s reads",
          variable, K8S + "configmap.yaml: data.lb.yaml").contains(variable);
    }
  }

  // --- the Deployment against the config ---

  @Test
  void containerPortsAreTheConfiguredListenAndAdminPorts() throws ConfigException {
    Node container = lbContainer();
    String proxy = proxyPortName();
    assertThat(portNamed(container, proxy).get("containerPort").integer())
        .as(portNamed(container, proxy).where() + ".containerPort == listen.port of the ConfigMap")
        .isEqualTo(configuredPort("listen"));
    assertThat(portNamed(container, "admin").get("containerPort").integer())
        .as(portNamed(container, "admin").where() + ".containerPort == admin.port of the ConfigMap")
        .isEqualTo(configuredPort("admin"));
    assertThat(container.get("ports").items()).as(container.where() + ".ports").hasSize(2);
    for (Node port : container.get("ports").items()) {
      assertThat(port.find("protocol").map(Node::text).orElse("TCP")).as(port.where() + ".protocol").isEqualTo("TCP");
    }
  }

  @Test
  void theContainerRunsTheConfigMapFile() {
    Node container = lbContainer();
    Node pod = podSpec();
    List<String> args = container.get("args").items().stream().map(Node::text).toList();
    int c = args.indexOf("-c");
    assertThat(c).as(container.where() + ".args: -c FILE").isNotNegative();
    assertThat(args.get(0)).as(container.where() + ".args[0]").isEqualTo("serve");
    Path configFile = Path.of(args.get(c + 1));
    Node mount = container.get("volumeMounts").item("mountPath", configFile.getParent().toString());
    assertThat(mount.get("readOnly").bool()).as(mount.where() + ".readOnly").isTrue();
    Node volume = pod.get("volumes").item("name", mount.get("name").text());
    Node configMap = k8s("configmap.yaml");
    assertThat(volume.get("configMap.name").text()).as(volume.where() + ".configMap.name")
        .isEqualTo(configMap.get("metadata.name").text());
    assertThat(volume.has("configMap.items")).as(volume.where() + ".configMap.items (the whole map is mounted)")
        .isFalse();
    assertThat(mount.has("subPath")).as(mount.where() + ".subPath (a subPath mount never sees ConfigMap updates)")
        .isFalse();
    assertThat(configMap.get("data").keys()).as(K8S + "configmap.yaml: data keys (the file -c names)")
        .contains(configFile.getFileName().toString());
  }

  @Test
  void anEditOfTheConfigMapIsReloadedWithoutASignal() throws ConfigException {
    // The whole-directory mount (above) is what lets the kubelet's symlink swap reach the pod; config.watch sees it.
    assertThat(k8sConfig().configFile().watch())
        .as(K8S + "configmap.yaml: data.lb.yaml: config.watch (else a ConfigMap edit waits for SIGHUP or a restart)")
        .isTrue();
  }

  @Test
  void probesAskTheAdminPortForHealthzAndReadyz() throws ConfigException {
    Node container = lbContainer();
    int admin = configuredPort("admin");
    Map<String, List<String>> paths = Map.of(
        "livenessProbe", List.of("/healthz"),
        "readinessProbe", List.of("/readyz"),
        "startupProbe", List.of("/healthz", "/readyz"));
    for (var probe : paths.entrySet()) {
      Node http = container.get(probe.getKey() + ".httpGet");
      assertThat(http.get("path").text()).as(http.where() + ".path").isIn(probe.getValue());
      assertThat(resolvePort(container, http.get("port"))).as(http.where() + ".port (the admin port)").isEqualTo(admin);
      assertThat(http.find("scheme").map(Node::text).orElse("HTTP")).as(http.where() + ".scheme").isEqualTo("HTTP");
    }
  }

  @Test
  void theGracePeriodOutlastsPreStopDrainDelayAndGracePeriod() throws ConfigException {
    LbConfig config = k8sConfig();
    Node pod = podSpec();
    Node sleep = lbContainer().get("lifecycle.preStop.sleep.seconds");
    int preStop = sleep.integer();
    int termination = pod.get("terminationGracePeriodSeconds").integer();
    Duration drain = config.shutdown().drainDelay();
    Duration grace = config.shutdown().gracePeriod();
    Duration needed = Duration.ofSeconds(preStop).plus(drain).plus(grace);
    assertThat(preStop).as(sleep.where() + " (a few seconds)").isBetween(1, 30);
    assertThat(Duration.ofSeconds(termination))
        .as("%s: terminationGracePeriodSeconds (%ds) must exceed preStop sleep %ds (%s) + shutdown.drain_delay %s"
                + " + shutdown.grace_period %s (%s) = %s",
            pod.where(), termination, preStop, sleep.where(), seconds(drain), seconds(grace), K8S + "configmap.yaml",
            seconds(needed))
        .isGreaterThan(needed);
  }

  @Test
  void resourceRequestsEqualLimits() {
    Node resources = lbContainer().get("resources");
    for (String resource : List.of("cpu", "memory")) {
      Node request = resources.get("requests." + resource);
      Node limit = resources.get("limits." + resource);
      assertThat(quantity(request)).as("%s (%s) == %s (%s)", request.where(), request.text(), limit.where(),
          limit.text()).isEqualByComparingTo(quantity(limit));
    }
  }

  @Test
  void thePodRunsAsTheImageUserWithARestrictedSecurityContext() {
    Node pod = podSpec();
    Node container = lbContainer();
    assertThat(pod.get("automountServiceAccountToken").bool()).as(pod.where() + ".automountServiceAccountToken")
        .isFalse();
    Node podSecurity = pod.get("securityContext");
    Node securityContext = container.get("securityContext");
    assertThat(podSecurity.get("runAsNonRoot").bool()).as(podSecurity.where() + ".runAsNonRoot").isTrue();
    assertThat(podSecurity.get("runAsUser").integer()).as(podSecurity.where() + ".runAsUser (USER in config/Dockerfile)")
        .isEqualTo(ContainerFilesTest.imageUser());
    assertThat(podSecurity.get("runAsGroup").integer()).as(podSecurity.where() + ".runAsGroup")
        .isEqualTo(ContainerFilesTest.imageGroup());
    assertThat(podSecurity.get("fsGroup").integer()).as(podSecurity.where() + ".fsGroup").isPositive();
    assertThat(effective(securityContext, podSecurity, "seccompProfile.type")).as(securityContext.where()
        + ".seccompProfile.type (or the pod's)").isEqualTo("RuntimeDefault");
    assertThat(effective(securityContext, podSecurity, "runAsNonRoot")).as(securityContext.where() + ".runAsNonRoot")
        .isEqualTo("true");
    assertThat(effective(securityContext, podSecurity, "runAsUser")).as(securityContext.where() + ".runAsUser")
        .isEqualTo(Integer.toString(ContainerFilesTest.imageUser()));
    assertThat(securityContext.get("allowPrivilegeEscalation").bool())
        .as(securityContext.where() + ".allowPrivilegeEscalation").isFalse();
    assertThat(securityContext.get("readOnlyRootFilesystem").bool())
        .as(securityContext.where() + ".readOnlyRootFilesystem").isTrue();
    assertThat(securityContext.find("privileged").map(Node::bool).orElse(false))
        .as(securityContext.where() + ".privileged").isFalse();
    assertThat(securityContext.get("capabilities.drop").items().stream().map(Node::text))
        .as(securityContext.where() + ".capabilities.drop").contains("ALL");
    assertThat(securityContext.has("capabilities.add")).as(securityContext.where() + ".capabilities.add").isFalse();
  }

  @Test
  void theWritablePlacesAreEmptyDirs() {
    Node pod = podSpec();
    Node container = lbContainer();
    for (String path : List.of(ContainerFilesTest.imageWorkdir(), "/tmp")) {
      Node mount = container.get("volumeMounts").item("mountPath", path);
      assertThat(mount.find("readOnly").map(Node::bool).orElse(false)).as(mount.where() + ".readOnly").isFalse();
      Node volume = pod.get("volumes").item("name", mount.get("name").text());
      assertThat(volume.has("emptyDir")).as(volume.where() + ".emptyDir (the root file system is read-only;"
          + " %s must be writable)", path).isTrue();
    }
  }

  @Test
  void replicasRollOutWithoutLosingCapacityAndSpreadOverNodes() {
    Node deployment = k8s("deployment.yaml");
    assertThat(deployment.get("spec.replicas").integer()).as(deployment.where() + ": spec.replicas").isEqualTo(2);
    Node rolling = deployment.get("spec.strategy.rollingUpdate");
    assertThat(deployment.get("spec.strategy.type").text()).as(deployment.where() + ": spec.strategy.type")
        .isEqualTo("RollingUpdate");
    assertThat(rolling.get("maxUnavailable").text()).as(rolling.where() + ".maxUnavailable").isEqualTo("0");
    assertThat(rolling.get("maxSurge").text()).as(rolling.where() + ".maxSurge").isEqualTo("1");
    assertThat(selects(deployment.get("spec.selector.matchLabels"), podLabels()))
        .as(deployment.where() + ": spec.selector.matchLabels must match the pod template's labels").isTrue();
    Node pod = podSpec();
    boolean spread = pod.find("topologySpreadConstraints").stream().flatMap(n -> n.items().stream())
        .anyMatch(c -> c.get("topologyKey").text().equals("kubernetes.io/hostname")
            && selects(c.get("labelSelector.matchLabels"), podLabels()));
    boolean antiAffinity = pod.has("affinity.podAntiAffinity");
    assertThat(spread || antiAffinity).as(pod.where() + ": topologySpreadConstraints over kubernetes.io/hostname"
        + " selecting the pods, or affinity.podAntiAffinity").isTrue();
  }

  // --- Services, PDB, monitoring ---

  @Test
  void servicesSelectThePodsAndTargetItsPorts() throws ConfigException {
    List<Node> services = DeployFiles.yamlDocuments(K8S + "service.yaml");
    Node container = lbContainer();
    Set<Integer> targeted = new LinkedHashSet<>();
    for (Node service : services) {
      assertThat(selects(service.get("spec.selector"), podLabels()))
          .as(service.where() + ": spec.selector must match the pod labels " + podLabels()).isTrue();
      assertThat(service.find("spec.type").map(Node::text).orElse("ClusterIP")).as(service.where() + ": spec.type")
          .isEqualTo("ClusterIP");
      Set<Integer> ports = new LinkedHashSet<>();
      for (Node port : service.get("spec.ports").items()) {
        Node target = port.find("targetPort").orElse(port.get("port"));
        ports.add(resolvePort(container, target));
      }
      assertThat(ports).as(service.where() + ": spec.ports must not mix the proxy port and the admin port"
          + " (the admin port gets a Service of its own)").hasSize(1);
      targeted.addAll(ports);
    }
    assertThat(targeted).as(K8S + "service.yaml: container ports reached through the Services")
        .containsExactlyInAnyOrder(configuredPort("listen"), configuredPort("admin"));
    Node proxy = proxyService();
    Node port = proxy.get("spec.ports[0]");
    assertThat(proxy.get("spec.ports").items()).as(proxy.where() + ": spec.ports (the proxy listener only)").hasSize(1);
    boolean tls = k8sConfig().listen().tls() != null;
    assertThat(port.get("port").integer()).as(port.where() + ".port (listen.tls %s)", tls ? "set" : "unset")
        .isEqualTo(tls ? 443 : 80);
    assertThat(port.get("name").text()).as(port.where() + ".name").isEqualTo(proxyPortName());
    assertThat(resolvePort(container, port.find("targetPort").orElse(port.get("port"))))
        .as(port.where() + ".targetPort must lead to listen.port of the ConfigMap").isEqualTo(configuredPort("listen"));
  }

  @Test
  void theDisruptionBudgetKeepsAPodOfTheDeployment() {
    Node pdb = k8s("pdb.yaml");
    assertThat(selects(pdb.get("spec.selector.matchLabels"), podLabels()))
        .as(pdb.where() + ": spec.selector.matchLabels must match the pod labels " + podLabels()).isTrue();
    int minAvailable = pdb.get("spec.minAvailable").integer();
    assertThat(minAvailable).as(pdb.where() + ": spec.minAvailable").isEqualTo(1)
        .isLessThan(k8s("deployment.yaml").get("spec.replicas").integer());
  }

  @Test
  void scrapeAnnotationsAndServiceMonitorPointAtTheAdminPortsMetrics() throws ConfigException {
    int admin = configuredPort("admin");
    Node annotations = k8s("deployment.yaml").get("spec.template.metadata.annotations");
    Map<String, String> values = new HashMap<>();
    annotations.keys().forEach(k -> values.put(k, annotations.json().get(k).asText()));
    assertThat(values).as(annotations.where() + ": prometheus.io/* (strings)")
        .containsEntry("prometheus.io/scrape", "true")
        .containsEntry("prometheus.io/port", Integer.toString(admin))
        .containsEntry("prometheus.io/path", "/metrics");

    Node monitor = k8s("servicemonitor.yaml");
    Node selector = monitor.get("spec.selector.matchLabels");
    List<Node> selected = DeployFiles.yamlDocuments(K8S + "service.yaml").stream()
        .filter(s -> selects(selector, labels(s.get("metadata.labels")))).toList();
    assertThat(selected).as(selector.where() + " must select exactly one Service of service.yaml").hasSize(1);
    Node service = selected.get(0);
    Node endpoints = monitor.get("spec.endpoints");
    assertThat(endpoints.items()).as(endpoints.where()).isNotEmpty();
    for (Node endpoint : endpoints.items()) {
      Node servicePort = service.get("spec.ports").item("name", endpoint.get("port").text());
      assertThat(resolvePort(lbContainer(), servicePort.get("targetPort")))
          .as(endpoint.where() + ".port (%s) must lead to the admin port", servicePort.where()).isEqualTo(admin);
      assertThat(endpoint.find("path").map(Node::text).orElse("/metrics")).as(endpoint.where() + ".path")
          .isEqualTo("/metrics");
    }
  }

  // --- TLS: the Secret lb-tls, its mount, the Certificate ---

  @Test
  void theConfigMapTerminatesTlsWithFilesItReadsWhenItLoads() throws ConfigException {
    String where = K8S + "configmap.yaml: data.lb.yaml: ";
    TlsConfig tls = k8sConfig().listen().tls();
    assertThat(tls).as(where + "listen.tls").isNotNull();
    assertThat(tls.certificates()).as(where + "listen.tls certificates, as lb loads them (the local copies)")
        .isNotEmpty()
        .allSatisfy(f -> assertThat(Path.of(f.certFile())).startsWith(localTlsDir))
        .allSatisfy(f -> assertThat(Path.of(f.keyFile())).startsWith(localTlsDir));
    assertThat(tls.watchInterval()).as(where + "listen.tls.watch_interval (zero: a renewed Secret is never seen"
        + " without a reload)").isPositive();
    assertThat(k8sConfig().listen().h2c()).as(where + "listen.h2c (HTTPS only)").isFalse();
    // The loading check above means something: lb does read the files, and refuses what it cannot read.
    Path certFile = Path.of(configuredTlsFiles().get(0)[0].text());
    if (!Files.exists(certFile)) {
      assertThatThrownBy(() -> ConfigLoader.parse(k8sConfigText(false), ENV))
          .as(where + "with %s missing (as on this machine)", certFile)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("listen.tls.cert_file");
    }
  }

  @Test
  void theTlsSecretIsMountedWholeWhereTheConfigMapReadsItsFiles() {
    Node container = lbContainer();
    Node pod = podSpec();
    String directory = configuredTlsDirectory();
    Node mount = container.get("volumeMounts").item("mountPath", directory);
    assertThat(mount.get("readOnly").bool()).as(mount.where() + ".readOnly").isTrue();
    assertThat(mount.has("subPath") || mount.has("subPathExpr"))
        .as(mount.where() + ".subPath (a subPath mount never sees the renewed Secret)").isFalse();
    Node volume = pod.get("volumes").item("name", mount.get("name").text());
    String secretName = volume.get("secret.secretName").text();
    assertThat(secretName).as(volume.where() + ".secret.secretName").isEqualTo("lb-tls");
    assertThat(volume.find("secret.optional").map(Node::bool).orElse(false))
        .as(volume.where() + ".secret.optional (without the Secret lb cannot serve)").isFalse();
    Set<String> files = new LinkedHashSet<>(TLS_SECRET_KEYS);
    volume.find("secret.items").ifPresent(items -> {
      files.clear();
      items.items().forEach(i -> files.add(i.get("path").text()));
    });
    volume.find("secret.defaultMode").ifPresent(mode -> assertThat(mode.integer() & 0007)
        .as(mode.where() + " (octal %s): the key must not be readable by others", Integer.toOctalString(mode.integer()))
        .isZero());
    for (Node[] pair : configuredTlsFiles()) {
      for (Node file : pair) {
        assertThat(Path.of(file.text()).getFileName().toString())
            .as("%s (%s): a file of the Secret %s, a kubernetes.io/tls Secret with the keys %s", file.where(),
                file.text(), secretName, TLS_SECRET_KEYS)
            .isIn(files).isIn(TLS_SECRET_KEYS);
      }
    }
    assertThat(configuredTlsFiles().get(0)[0].text()).as("listen.tls.cert_file").endsWith("/tls.crt");
    assertThat(configuredTlsFiles().get(0)[1].text()).as("listen.tls.key_file").endsWith("/tls.key");
    // No other volume is mounted over the Secret's directory or inside it.
    for (Node other : container.get("volumeMounts").items()) {
      if (!other.get("name").text().equals(mount.get("name").text())) {
        assertThat(Path.of(other.get("mountPath").text()).startsWith(Path.of(directory)))
            .as(other.where() + ".mountPath must not hide " + directory).isFalse();
      }
    }
  }

  @Test
  void theExampleCertificateMakesTheMountedSecret() {
    Node certificate = k8s("certificate.example.yaml");
    Node tlsVolume = podSpec().get("volumes").items().stream().filter(v -> v.has("secret.secretName"))
        .filter(v -> v.get("secret.secretName").text().equals(certificate.get("spec.secretName").text()))
        .findFirst()
        .orElseThrow(() -> certificate.fail("spec.secretName names no Secret volume of " + K8S + "deployment.yaml"));
    Node mount = lbContainer().get("volumeMounts").item("name", tlsVolume.get("name").text());
    assertThat(mount.get("mountPath").text()).as(mount.where() + ".mountPath (listen.tls's directory)")
        .isEqualTo(configuredTlsDirectory());
    assertThat(certificate.get("spec.dnsNames").items()).as(certificate.where() + ": spec.dnsNames").isNotEmpty();
    assertThat(certificate.get("spec.issuerRef.name").text()).as(certificate.where() + ": spec.issuerRef.name")
        .isNotBlank();
    assertThat(certificate.get("spec.privateKey.algorithm").text()).as(certificate.where()
        + ": spec.privateKey.algorithm (lb reads RSA and EC keys)").isIn("RSA", "ECDSA");
    String text = DeployFiles.read(K8S + "certificate.example.yaml");
    assertThat(text).as(K8S + "certificate.example.yaml: the way without cert-manager")
        .contains("kubectl -n lb create secret tls " + certificate.get("spec.secretName").text()
            + " --cert=tls.crt --key=tls.key");
  }

  // --- the Secret ---

  @Test
  void everySecretReferenceNamesTheExampleSecretAndOneOfItsKeys() {
    Node secret = k8s("secret.example.yaml");
    String name = secret.get("metadata.name").text();
    Set<String> keys = new LinkedHashSet<>();
    for (String field : List.of("data", "stringData")) {
      secret.find(field).ifPresent(d -> keys.addAll(d.keys()));
    }
    List<Node> references = new ArrayList<>();
    collect(podSpec(), "secretKeyRef", references);
    collect(podSpec(), "secretRef", references);
    assertThat(references).as(K8S + "deployment.yaml: secretKeyRef entries").hasSizeGreaterThanOrEqualTo(2);
    for (Node reference : references) {
      assertThat(reference.get("name").text()).as(reference.where() + ".name (the Secret of secret.example.yaml)")
          .isEqualTo(name);
      reference.find("key").ifPresent(key -> assertThat(keys)
          .as(reference.where() + ".key must be a key of " + secret.where()).contains(key.text()));
    }
  }

  @Test
  void theExampleSecretHoldsPlaceholdersThatCannotBeApplied() {
    Node secret = k8s("secret.example.yaml");
    assertThat(secret.has("stringData")).as(secret.where() + ": stringData (would apply as real values)").isFalse();
    Node data = secret.get("data");
    for (String key : data.keys()) {
      String value = data.get(key).text();
      assertThat(isBase64(value)).as("%s.%s must stay a placeholder, not base64 (the API server refuses it, so"
          + " the example can never be applied by accident); got %s", data.where(), key, value).isFalse();
    }
  }

  @Test
  void kustomizationAppliesEveryManifestButTheExamples() {
    Node kustomization = k8s("kustomization.yaml");
    List<String> resources = kustomization.get("resources").items().stream().map(Node::text).toList();
    for (String resource : resources) {
      DeployFiles.file(K8S + resource);
    }
    Set<String> expected = new TreeSet<>(KINDS.keySet());
    // The examples: the Secret's placeholders, and the headless Services that belong to the application's namespace.
    // And the Certificate, which needs cert-manager and an issuer of the user's.
    expected.removeAll(List.of("kustomization.yaml", "secret.example.yaml", "app-headless.example.yaml",
        "certificate.example.yaml"));
    assertThat(resources).as(kustomization.where() + ": resources").containsExactlyInAnyOrderElementsOf(expected);
    assertThat(kustomization.get("namespace").text()).as(kustomization.where() + ": namespace")
        .isEqualTo(k8s("namespace.yaml").get("metadata.name").text());
    String image = lbContainer().get("image").text();
    String repository = image.substring(0, image.lastIndexOf(':'));
    assertThat(kustomization.get("images").items().stream().map(i -> i.get("name").text()))
        .as(kustomization.where() + ": images[].name must be the Deployment's image (%s)", image).contains(repository);
  }

  // --- docker compose ---

  @Test
  void composeRunsLbThreeBackendsPostgresRedisPrometheusAndGrafana() throws ConfigException {
    Node compose = DeployFiles.yaml("config/docker-compose.yaml");
    Node services = compose.get("services");
    assertThat(services.keys()).as(services.where())
        .containsExactlyInAnyOrder("lb", "backend-1", "backend-2", "backend-3", "postgres", "redis", "prometheus",
            "grafana");

    Node lb = services.get("lb");
    Node build = lb.get("build");
    assertThat(build.get("context").text()).as(build.where() + ".context (the repository root)").isEqualTo("..");
    assertThat(build.get("dockerfile").text()).as(build.where() + ".dockerfile").isEqualTo("config/Dockerfile");
    for (Node volume : composeVolumes(compose)) {
      String source = volume.text().split(":")[0];
      if (source.startsWith(".")) {
        assertThat(DeployFiles.root().resolve("config").resolve(source).normalize())
            .as(volume.where() + ": %s (relative to config/)", source).exists();
      }
    }

    LbConfig config = composeConfig();
    List<String> ports = lb.get("ports").items().stream().map(Node::text).toList();
    assertThat(ports).as(lb.where() + ".ports: the proxy and admin ports of config/compose/lb.yaml")
        .contains(config.listen().port() + ":" + config.listen().port(),
            config.admin().port() + ":" + config.admin().port());
    List<String> command = lb.get("command").items().stream().map(Node::text).toList();
    String configPath = command.get(command.indexOf("-c") + 1);
    assertThat(lb.get("volumes").items().stream().map(Node::text))
        .as(lb.where() + ".volumes: config/compose/lb.yaml mounted read-only where -c reads it")
        .contains("./compose/lb.yaml:" + configPath + ":ro");
    Node postgres = lb.get("depends_on.postgres");
    assertThat(postgres.get("condition").text()).as(postgres.where() + ".condition").isEqualTo("service_healthy");
    assertThat(services.get("postgres.healthcheck.test").items()).as(services.where() + ".postgres.healthcheck.test")
        .isNotEmpty();

    // Each backend URL names a compose service running lb.jar backend on that port.
    for (var backend : config.backends()) {
      URI url = URI.create(backend.url());
      Node service = services.get(url.getHost());
      List<String> args = service.get("command").items().stream().map(Node::text).toList();
      assertThat(args).as(service.where() + ".command (backend %s of config/compose/lb.yaml)", url)
          .startsWith("backend", "--port", Integer.toString(url.getPort()));
      assertThat(service.get("image").text()).as(service.where() + ".image (the lb image)")
          .isEqualTo(lb.get("image").text());
    }
  }

  @Test
  void composeLbConfigLoadsAndUsesTheComposePostgres() throws ConfigException {
    LbConfig config = composeConfig();
    Node services = DeployFiles.yaml("config/docker-compose.yaml").get("services");
    Map<String, String> postgres = composeEnvironment(services.get("postgres"));
    assertThat(config.rateLimit().enabled()).as("config/compose/lb.yaml: rate_limit.enabled").isTrue();
    assertThat(config.store().url()).as("config/compose/lb.yaml: store.url (the postgres service, POSTGRES_DB)")
        .isEqualTo("jdbc:postgresql://postgres:5432/" + postgres.get("POSTGRES_DB"));
    assertThat(config.store().username()).as("config/compose/lb.yaml: store.username (POSTGRES_USER)")
        .isEqualTo(postgres.get("POSTGRES_USER"));
    assertThat(config.store().password()).as("config/compose/lb.yaml: store.password (POSTGRES_PASSWORD)")
        .isEqualTo(postgres.get("POSTGRES_PASSWORD"));
    assertThat(config.admin().token()).as("config/compose/lb.yaml: admin.token").isNotEmpty();
    assertThat(config.rateLimit().scope()).as("config/compose/lb.yaml: rate_limit.scope")
        .isEqualTo(dev.lb.config.RateLimitConfig.Scope.CLUSTER);
    assertThat(URI.create(config.rateLimit().redis().url()).getHost())
        .as("config/compose/lb.yaml: rate_limit.redis.url (the redis service)").isEqualTo("redis");
    assertThat(services.has("redis.healthcheck.test")).as("the compose redis service has a health check").isTrue();
    Node lb = services.get("lb");
    Duration stop = Duration.parse("PT" + lb.get("stop_grace_period").text().toUpperCase());
    assertThat(stop).as(lb.where() + ".stop_grace_period > shutdown.drain_delay + shutdown.grace_period")
        .isGreaterThan(config.shutdown().drainDelay().plus(config.shutdown().gracePeriod()));
  }

  @Test
  void prometheusScrapesTheAdminPortsMetrics() throws ConfigException {
    Node prometheus = DeployFiles.yaml("config/prometheus/prometheus.yml");
    Node job = prometheus.get("scrape_configs").item("job_name", "lb");
    assertThat(job.find("metrics_path").map(Node::text).orElse("/metrics")).as(job.where() + ".metrics_path")
        .isEqualTo("/metrics");
    List<String> targets = new ArrayList<>();
    for (Node config : job.get("static_configs").items()) {
      config.get("targets").items().forEach(t -> targets.add(t.text()));
    }
    assertThat(targets).as(job.where() + ".static_configs[].targets: the compose lb service's admin port")
        .containsExactly("lb:" + composeConfig().admin().port());
    String interval = job.find("scrape_interval").or(() -> prometheus.find("global.scrape_interval"))
        .map(Node::text).orElse("1m");
    assertThat(interval).as(job.where() + ": scrape interval").isEqualTo("5s");
  }

  // --- Grafana ---

  @Test
  void grafanaProvisioningFindsPrometheusAndTheDashboard() {
    Node datasources = DeployFiles.yaml("config/grafana/provisioning/datasources/prometheus.yaml");
    Node datasource = datasources.get("datasources").item("type", "prometheus");
    Node services = DeployFiles.yaml("config/docker-compose.yaml").get("services");
    String prometheusPort = services.get("prometheus.ports[0]").text().split(":")[1];
    assertThat(datasource.get("url").text()).as(datasource.where() + ".url (the compose prometheus service)")
        .isEqualTo("http://prometheus:" + prometheusPort);

    Node providers = DeployFiles.yaml("config/grafana/provisioning/dashboards/lb.yaml");
    String dashboards = providers.get("providers[0].options.path").text();
    List<String> volumes = services.get("grafana.volumes").items().stream().map(Node::text).toList();
    assertThat(volumes).as("config/docker-compose.yaml: services.grafana.volumes: the dashboard in %s (%s), and"
            + " the provisioning files", dashboards, providers.get("providers[0].options.path").where())
        .contains("./grafana/lb-dashboard.json:" + dashboards + "/lb-dashboard.json:ro",
            "./grafana/provisioning:/etc/grafana/provisioning:ro");
  }

  @Test
  void theDashboardQueriesOnlyMetricsLbExports() {
    Node dashboard = DeployFiles.json("config/grafana/lb-dashboard.json");
    List<Node> expressions = new ArrayList<>();
    collectQueries(dashboard, expressions);
    assertThat(expressions).as("config/grafana/lb-dashboard.json: queries").hasSizeGreaterThan(10);
    Set<String> used = new TreeSet<>();
    for (Node expression : expressions) {
      List<String> names = metricNames(expression.text());
      assertThat(names).as(expression.where() + ": a query names no metric: " + expression.text()).isNotEmpty();
      for (String name : names) {
        assertThat(isExportedMetric(name))
            .as("%s: %s is not a metric lb exports (lb_* from the list, or jvm_*, process_*, netty_*) in: %s",
                expression.where(), name, expression.text())
            .isTrue();
        used.add(name);
      }
    }
    Set<String> required = new TreeSet<>(LB_METRICS);
    required.removeAll(Set.of("lb_request_duration_seconds_sum", "lb_request_duration_seconds_count"));
    required.addAll(Set.of("jvm_memory_used_bytes", "netty_eventexecutor_tasks_pending"));
    assertThat(used).as("config/grafana/lb-dashboard.json: metrics with a panel (or annotation)")
        .containsAll(required);
  }

  @Test
  void theDashboardPicksItsDataSourceByVariable() {
    Node dashboard = DeployFiles.json("config/grafana/lb-dashboard.json");
    assertThat(dashboard.get("schemaVersion").integer()).as(dashboard.where() + ": schemaVersion").isGreaterThanOrEqualTo(36);
    assertThat(dashboard.get("uid").text()).as(dashboard.where() + ": uid").isNotBlank();
    Node variable = dashboard.get("templating.list").item("name", "datasource");
    assertThat(variable.get("type").text()).as(variable.where() + ".type").isEqualTo("datasource");
    assertThat(variable.get("query").text()).as(variable.where() + ".query").isEqualTo("prometheus");
    Set<Integer> ids = new LinkedHashSet<>();
    for (Node panel : dashboard.get("panels").items()) {
      assertThat(ids.add(panel.get("id").integer())).as(panel.where() + ".id is unique").isTrue();
      int x = panel.get("gridPos.x").integer();
      int w = panel.get("gridPos.w").integer();
      assertThat(x + w).as(panel.where() + ".gridPos: x + w within 24 columns").isLessThanOrEqualTo(24);
      if (panel.get("type").text().equals("row")) {
        continue;
      }
      assertThat(panel.get("datasource.uid").text()).as(panel.where() + ".datasource.uid").isEqualTo("${datasource}");
      for (Node target : panel.get("targets").items()) {
        assertThat(target.get("datasource.uid").text()).as(target.where() + ".datasource.uid")
            .isEqualTo("${datasource}");
      }
    }
  }

  /** The metric-name check itself: it must catch a wrong name and leave labels, functions and variables alone. */
  @Test
  void theMetricNameCheckFindsMetricsAndOnlyMetrics() {
    assertThat(metricNames("histogram_quantile(0.99, sum by (backend, le) (rate(lb_request_duration_seconds_bucket"
        + "{instance=~\"$instance\", code=~\"5..\"}[$__rate_interval])))"))
        .containsExactly("lb_request_duration_seconds_bucket");
    assertThat(metricNames("sum(rate(lb_request_total[1m])) / ignoring(x) group_left sum(up offset 5m) > bool 0"))
        .containsExactly("lb_request_total", "up");
    assertThat(metricNames("label_values(lb_backend_up{instance=~\"$instance\"}, backend)"))
        .containsExactly("lb_backend_up");
    assertThat(metricNames("sum({__name__=~\"netty_allocator_memory_used(_bytes)?\", memory_type=\"direct\"})"))
        .containsExactly("netty_allocator_memory_used(_bytes)?");
    assertThat(isExportedMetric("lb_request_total")).isFalse();
    assertThat(isExportedMetric("up")).isFalse();
    assertThat(isExportedMetric("netty_allocator_memory_used(_bytes)?")).isTrue();
    assertThat(isExportedMetric("lb_request_duration_seconds_bucket")).isTrue();
  }

  // --- helpers ---

  private static String seconds(Duration d) {
    return java.math.BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString() + "s";
  }

  private static Node k8s(String name) {
    return DeployFiles.yaml(K8S + name);
  }

  private static Node podSpec() {
    return k8s("deployment.yaml").get("spec.template.spec");
  }

  private static Node lbContainer() {
    return podSpec().get("containers").item("name", "lb");
  }

  private static Map<String, String> podLabels() {
    return labels(k8s("deployment.yaml").get("spec.template.metadata.labels"));
  }

  private static Node proxyService() {
    return DeployFiles.yamlDocuments(K8S + "service.yaml").stream()
        .filter(s -> s.get("metadata.name").text().equals("lb")).findFirst()
        .orElseThrow(() -> new AssertionError(K8S + "service.yaml: no Service named lb"));
  }

  private static String k8sConfigText() {
    return k8s("configmap.yaml").get("data").child("lb.yaml").text();
  }

  /**
   * The ConfigMap's lb.yaml; with {@code localTls}, its {@code listen.tls} directory (the Secret's mount point, which
   * does not exist here) replaced by {@link #localTlsDir}, where the test wrote a certificate and key under the same
   * names.
   */
  private static String k8sConfigText(boolean localTls) {
    String text = k8sConfigText();
    if (!localTls || configuredTlsFiles().isEmpty()) {
      return text;
    }
    String directory = configuredTlsDirectory() + "/";
    assertThat(text).as(K8S + "configmap.yaml: data.lb.yaml names " + directory).contains(directory);
    return text.replace(directory, localTlsDir.toAbsolutePath() + "/");
  }

  /** {@code listen.tls}'s certificate and key files as the ConfigMap names them: [cert_file, key_file] each. */
  private static List<Node[]> configuredTlsFiles() {
    Node tree = DeployFiles.yamlText(K8S + "configmap.yaml: data.lb.yaml", k8sConfigText());
    List<Node[]> files = new ArrayList<>();
    tree.find("listen.tls").ifPresent(tls -> {
      if (tls.has("cert_file") || tls.has("key_file")) {
        files.add(new Node[] {tls.get("cert_file"), tls.get("key_file")});
      }
      tls.find("certificates").ifPresent(more -> more.items().forEach(
          c -> files.add(new Node[] {c.get("cert_file"), c.get("key_file")})));
    });
    return files;
  }

  /** The one directory every {@code listen.tls} file of the ConfigMap is in: where the Secret must be mounted. */
  private static String configuredTlsDirectory() {
    List<Node[]> files = configuredTlsFiles();
    assertThat(files).as(K8S + "configmap.yaml: data.lb.yaml: listen.tls.cert_file and key_file").isNotEmpty();
    Set<String> directories = new TreeSet<>();
    for (Node[] pair : files) {
      for (Node file : pair) {
        Path path = Path.of(file.text());
        assertThat(path.isAbsolute()).as(file.where() + " (an absolute path)").isTrue();
        directories.add(path.getParent().toString());
      }
    }
    assertThat(directories).as(K8S + "configmap.yaml: data.lb.yaml: the directories of listen.tls's files (one"
        + " Secret volume)").hasSize(1);
    return directories.iterator().next();
  }

  /** Where the test keeps its copy of a {@code listen.tls} file. */
  private static Path localTlsFile(Node file) {
    return localTlsDir.resolve(Path.of(file.text()).getFileName().toString());
  }

  /** The name of the container's (and the Service's) proxy port: https when the listener speaks TLS. */
  private static String proxyPortName() {
    return configuredTlsFiles().isEmpty() ? "http" : "https";
  }

  private static LbConfig k8sConfig() throws ConfigException {
    try {
      return ConfigLoader.parse(k8sConfigText(true), ENV);
    } catch (ConfigException e) {
      throw new AssertionError(K8S + "configmap.yaml: data.lb.yaml does not load:\n" + e.getMessage(), e);
    }
  }

  private static LbConfig composeConfig() throws ConfigException {
    Node lb = DeployFiles.yaml("config/docker-compose.yaml").get("services.lb");
    try {
      return ConfigLoader.load(DeployFiles.file("config/compose/lb.yaml"), composeEnvironment(lb));
    } catch (ConfigException e) {
      throw new AssertionError("config/compose/lb.yaml does not load with the environment of " + lb.where() + ":\n"
          + e.getMessage(), e);
    }
  }

  /**
   * {@code listen.port} or {@code admin.port} as the ConfigMap sets it, else as {@code config/lb.yaml} (every key at
   * its default) does; and the two must agree with what lb itself makes of the ConfigMap.
   */
  private static int configuredPort(String section) throws ConfigException {
    Node tree = DeployFiles.yamlText(K8S + "configmap.yaml: data.lb.yaml", k8sConfigText());
    int port = tree.find(section + ".port").map(Node::integer).orElseGet(() -> {
      try {
        LbConfig defaults = ConfigLoader.load(DeployFiles.file("config/lb.yaml"), ENV);
        return section.equals("listen") ? defaults.listen().port() : defaults.admin().port();
      } catch (ConfigException e) {
        throw new AssertionError("config/lb.yaml does not load:\n" + e.getMessage(), e);
      }
    });
    LbConfig loaded = k8sConfig();
    assertThat(section.equals("listen") ? loaded.listen().port() : loaded.admin().port())
        .as(tree.where() + ": " + section + ".port as lb loads it").isEqualTo(port);
    return port;
  }

  private static Node portNamed(Node container, String name) {
    return container.get("ports").item("name", name);
  }

  /** A port given by number, or by the name of one of the container's ports. */
  private static int resolvePort(Node container, Node port) {
    if (port.json().isIntegralNumber()) {
      return port.integer();
    }
    return container.get("ports").items().stream()
        .filter(p -> p.get("name").text().equals(port.text()))
        .map(p -> p.get("containerPort").integer())
        .findFirst()
        .orElseThrow(() -> port.fail("names no port of " + container.where() + ".ports: " + port.text()));
  }

  private static Map<String, String> labels(Node node) {
    Map<String, String> labels = new LinkedHashMap<>();
    node.keys().forEach(k -> labels.put(k, node.json().get(k).asText()));
    return labels;
  }

  private static boolean selects(Node matchLabels, Map<String, String> labels) {
    Map<String, String> selector = labels(matchLabels);
    return !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet());
  }

  /** A security setting of the container, else of the pod (as Kubernetes applies them), as text. */
  private static String effective(Node container, Node pod, String path) {
    return container.find(path).or(() -> pod.find(path)).map(Node::text)
        .orElseThrow(() -> container.fail(path + " is missing, here and in " + pod.where()));
  }

  /** Every map under {@code node} holding {@code key}, as that key's value. */
  private static void collect(Node node, String key, List<Node> found) {
    if (node.json().isObject()) {
      for (String k : node.keys()) {
        if (node.json().get(k).isNull()) {
          continue;
        }
        Node child = node.child(k);
        if (k.equals(key)) {
          found.add(child);
        } else {
          collect(child, key, found);
        }
      }
    } else if (node.json().isArray()) {
      node.items().forEach(item -> collect(item, key, found));
    }
  }

  /** Every Prometheus query of a dashboard: targets' and annotations' {@code expr}, variables' queries. */
  static void collectQueries(Node node, List<Node> found) {
    if (node.json().isObject()) {
      for (String k : node.keys()) {
        if (node.json().get(k).isNull()) {
          continue;
        }
        Node child = node.child(k);
        if (k.equals("expr") && child.json().isTextual()) {
          found.add(child);
        } else if (k.equals("query") && child.json().isObject() && child.has("query")) {
          found.add(child.get("query"));
        } else if (k.equals("definition") && child.json().isTextual()) {
          found.add(child);
        } else {
          collectQueries(child, found);
        }
      }
    } else if (node.json().isArray()) {
      node.items().forEach(item -> collectQueries(item, found));
    }
  }

  private static final Pattern NAME_MATCHER = Pattern.compile("__name__\\s*=~?\\s*\"([^\"]*)\"");
  private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
  private static final Pattern GROUPING =
      Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*");
  private static final Set<String> KEYWORDS =
      Set.of("by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or",
          "unless", "inf", "nan", "Inf", "NaN", "atan2");

  /**
   * The metric names a PromQL query (or a Grafana {@code label_values(...)} query) reads: identifiers that are not
   * functions, keywords, labels, strings, durations or variables; plus the pattern of a {@code __name__} matcher.
   */
  static List<String> metricNames(String query) {
    String q = query;
    Matcher labelValues = Pattern.compile("^\\s*label_values\\((.*),\\s*[A-Za-z_][A-Za-z0-9_]*\\s*\\)\\s*$")
        .matcher(q);
    if (labelValues.matches()) {
      q = labelValues.group(1);
    }
    List<String> names = new ArrayList<>();
    Matcher byName = NAME_MATCHER.matcher(q);
    while (byName.find()) {
      names.add(byName.group(1));
    }
    q = STRING.matcher(q).replaceAll("\"\"");
    q = q.replaceAll("\\{[^}]*}", "{}");                 // label matchers
    q = q.replaceAll("\\[[^\\]]*]", "[]");               // ranges and subqueries
    q = GROUPING.matcher(q).replaceAll(" ");             // by (...), on (...), ...
    q = q.replaceAll("\\$\\{?\\w+}?", " ");              // Grafana variables
    q = q.replaceAll("\\b\\d+(?:\\.\\d+)?(?:ms|s|m|h|d|w|y)\\b", " ");   // durations (offset 5m)
    q = q.replaceAll("\\b\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\b", " ");
    Matcher identifiers = IDENTIFIER.matcher(q);
    while (identifiers.find()) {
      String word = identifiers.group();
      String rest = q.substring(identifiers.end()).stripLeading();
      boolean function = rest.startsWith("(");
      if (!function && !KEYWORDS.contains(word)) {
        names.add(word);
      }
    }
    return names;
  }

  /** A name from the list, a jvm_/process_/netty_ name, or a {@code __name__} pattern matching an lb metric. */
  static boolean isExportedMetric(String name) {
    if (LB_METRICS.contains(name) || OTHER_METRIC_PREFIXES.stream().anyMatch(name::startsWith)) {
      return true;
    }
    if (name.matches("[A-Za-z_:][A-Za-z0-9_:]*")) {
      return false;
    }
    try {
      Pattern pattern = Pattern.compile(name);
      return LB_METRICS.stream().anyMatch(m -> pattern.matcher(m).matches());
    } catch (PatternSyntaxException e) {
      return false;
    }
  }

  /** Names of the ${VAR} references that have no default (${VAR:-default} has one; $${ is a literal). */
  private static Set<String> variablesWithoutDefault(String text) {
    Set<String> names = new LinkedHashSet<>();
    Matcher m = Pattern.compile("(?<!\\$)\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?}").matcher(text);
    while (m.find()) {
      if (m.group(2) == null) {
        names.add(m.group(1));
      }
    }
    return names;
  }

  /** A compose service's environment, with compose's ${VAR:-default} taken at its default (no variable set). */
  private static Map<String, String> composeEnvironment(Node service) {
    Node environment = service.get("environment");
    Map<String, String> env = new LinkedHashMap<>();
    for (String key : environment.keys()) {
      Node value = environment.get(key);
      Matcher m = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}").matcher(value.text());
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        if (m.group(2) == null) {
          throw value.fail("${" + m.group(1) + "} has no default: the try-out must run with nothing set");
        }
        m.appendReplacement(out, Matcher.quoteReplacement(m.group(2)));
      }
      m.appendTail(out);
      env.put(key, out.toString());
    }
    return env;
  }

  private static List<Node> composeVolumes(Node compose) {
    List<Node> volumes = new ArrayList<>();
    Node services = compose.get("services");
    for (String name : services.keys()) {
      services.get(name).find("volumes").ifPresent(v -> volumes.addAll(v.items()));
    }
    return volumes;
  }

  private static boolean isBase64(String value) {
    try {
      Base64.getDecoder().decode(value);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
