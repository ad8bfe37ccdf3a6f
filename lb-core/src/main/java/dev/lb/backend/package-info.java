/** Backends, their live counters, and the immutable set of them the hot path reads. */
@NullMarked
package dev.lb.backend;

import org.jspecify.annotations.NullMarked;
