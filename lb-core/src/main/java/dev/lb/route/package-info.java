/**
 * Routing: which upstream a request goes to, by its host and path. {@link dev.lb.route.RouteTable} is built once
 * from the configured {@link dev.lb.route.RouteSpec}s and looked up on every request, on the event loop, without
 * allocating when the path is already in normal form; {@link dev.lb.route.PathNormalizer} is the normal form that
 * path prefixes are matched against. Plain Java, no Netty (a header value or request target from Netty, such as an
 * {@code AsciiString}, is read through {@link java.lang.CharSequence}).
 */
@NullMarked
package dev.lb.route;

import org.jspecify.annotations.NullMarked;
