/**
 * The proxy listener: the pipeline initializer, its handlers, canned responses, and the server that binds it.
 *
 * <p>The pipeline of a client connection is {@code FrontendCodec -> RequestGuard -> ClientTimeouts -> (rate limiter)
 * -> ProxyHandler}; see {@link dev.lb.proxy.ProxyInitializer}.
 */
@NullMarked
package dev.lb.proxy;

import org.jspecify.annotations.NullMarked;
