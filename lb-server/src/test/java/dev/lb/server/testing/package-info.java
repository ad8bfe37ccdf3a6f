/** Test helpers for lb-server: a raw HTTP client over a socket, log capture. */
@NullMarked
package dev.lb.server.testing;

import org.jspecify.annotations.NullMarked;
