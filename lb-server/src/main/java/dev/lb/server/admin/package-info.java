/**
 * The admin listener: a small HTTP/1.1 server on its own port and its own one-thread event loop group, apart from
 * the proxy. {@link dev.lb.server.admin.AdminRouter} maps method and path to {@link dev.lb.server.admin.AdminHandler}s;
 * {@link dev.lb.server.admin.AdminServer} serves a router; {@link dev.lb.server.admin.HealthEndpoints} adds
 * {@code /healthz} and {@code /readyz}, {@link dev.lb.server.admin.ClientsEndpoint} the {@code /clients} API. Handlers see immutable {@link dev.lb.server.admin.AdminRequest}s (no Netty
 * buffers), so they may run on any thread; blocking ones run on an executor given to the server.
 */
@NullMarked
package dev.lb.server.admin;

import org.jspecify.annotations.NullMarked;
