/**
 * HTTP/2 towards clients: the server codec lb puts on a connection, with its settings and its defences against the
 * known HTTP/2 floods ({@link dev.lb.http2.Http2ServerCodecs}).
 */
@NullMarked
package dev.lb.http2;

import org.jspecify.annotations.NullMarked;
