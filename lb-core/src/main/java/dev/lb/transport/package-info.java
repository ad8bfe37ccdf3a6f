/**
 * Choice of Netty transport (native epoll when it loads, NIO otherwise), and short descriptions of failed connections
 * shared by the proxy and the health prober.
 */
@NullMarked
package dev.lb.transport;

import org.jspecify.annotations.NullMarked;
