package dev.lb.server.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lb.config.ConfigPrinter;
import dev.lb.config.LbConfig;
import io.netty.handler.codec.http.HttpMethod;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The process as a whole: {@code POST /reload} (what SIGHUP does, answered as JSON), {@code GET /config} (the
 * effective configuration, secrets masked, and which signals the process handles) and {@code GET /version}. Management endpoints: the admin token, or a
 * loopback caller when none is set.
 */
public final class ServerEndpoints {
  private ServerEndpoints() {}

  /**
   * @param signals what each signal does in this process ({@code drain}, {@code reload}, or why it is not handled),
   *     shown by {@code GET /config} beside the configuration
   * @param reload reloads the configuration file and says how it went (it reads a file and may reach the store, so it
   *     runs on the blocking executor); null when lb runs without a file (the demo)
   * @param version what {@code GET /version} answers
   */
  public static AdminRouter.Builder register(AdminRouter.Builder routes, Supplier<LbConfig> config,
      Supplier<Map<String, String>> signals, @Nullable Supplier<ReloadOutcome> reload, Map<String, String> version) {
    routes.route(HttpMethod.GET, "/version", Access.MANAGEMENT,
        request -> CompletableFuture.completedFuture(AdminResponse.json(200, version)));
    routes.route(HttpMethod.GET, "/config", Access.MANAGEMENT,
        request -> {
          ObjectNode tree = ConfigPrinter.toTree(config.get(), true);
          // Not a configuration key: how the running process reacts to signals (see config.watch for the file).
          tree.set("signals", AdminJson.MAPPER.valueToTree(signals.get()));
          return CompletableFuture.completedFuture(AdminResponse.json(200, tree));
        });
    return routes.routeBlocking(HttpMethod.POST, "/reload", Access.MANAGEMENT, request -> {
      if (reload == null) {
        return AdminResponse.error(409, "No configuration file to reload: lb was started without one (demo)");
      }
      ReloadOutcome outcome = reload.get();
      if (outcome.applied()) {
        return AdminResponse.json(200, outcome);
      }
      // The contract's error shape, with the outcome's fields after it.
      ObjectNode body = AdminJson.MAPPER.createObjectNode();
      body.put("code", 422);
      body.put("message", "Reload of " + outcome.file() + " refused, the running configuration stays: "
          + String.join("; ", outcome.errors()));
      body.setAll((ObjectNode) AdminJson.MAPPER.valueToTree(outcome));
      return AdminResponse.json(422, body);
    });
  }
}
