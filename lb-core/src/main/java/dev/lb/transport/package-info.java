/** Choice of Netty transport: native epoll when it loads, NIO otherwise. */
@NullMarked
package dev.lb.transport;

import org.jspecify.annotations.NullMarked;
