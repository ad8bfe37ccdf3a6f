/** The lb application: command line, wiring of the proxy and admin listeners, signals, drain. */
@NullMarked
package dev.lb.server;

import org.jspecify.annotations.NullMarked;
