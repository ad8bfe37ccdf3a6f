/**
 * Health across the backends: the monitor that hears every change of a backend's {@link dev.lb.backend.BackendHealth},
 * decides outlier ejections within {@code max_ejection_percent} and publishes a new routing snapshot on each change.
 * Plain Java, no Netty; the active prober, a Netty client, is in {@code dev.lb.health.probe}.
 */
@NullMarked
package dev.lb.health;

import org.jspecify.annotations.NullMarked;
