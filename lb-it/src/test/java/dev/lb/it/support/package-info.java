/**
 * Test toolkit for integration tests over real loopback sockets: {@link dev.lb.it.support.TestBackend}, a Netty
 * backend whose behaviour is chosen by the request path; {@link dev.lb.it.support.RawHttpClient}, a blocking raw-socket
 * HTTP/1.x client; streaming helpers ({@link dev.lb.it.support.SlowReader},
 * {@link dev.lb.it.support.StreamingUploader}) that hash what they move; and {@link dev.lb.it.support.Ports}.
 */
@NullMarked
package dev.lb.it.support;

import org.jspecify.annotations.NullMarked;
