/**
 * Backends, their live counters and health (the rise/fall state of the active checks and the outlier state of the
 * passive ones, with the policy that moves them), and the immutable set of them the hot path reads. Plain Java over
 * {@code config}; what acts across backends (ejection limits, probes, publishing) lives above, in {@code health}, and
 * reaches each backend's health through the {@link dev.lb.backend.BackendHealth.Listener} and
 * {@link dev.lb.backend.BackendHealth.Ejections} interfaces owned here.
 */
@NullMarked
package dev.lb.backend;

import org.jspecify.annotations.NullMarked;
