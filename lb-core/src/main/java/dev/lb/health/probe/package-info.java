/**
 * The active health prober: a small Netty HTTP client on its own event loop whose results feed each backend's
 * {@link dev.lb.backend.BackendHealth}.
 */
@NullMarked
package dev.lb.health.probe;

import org.jspecify.annotations.NullMarked;
