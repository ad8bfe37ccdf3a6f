/** The balancer's meters: every name in {@link dev.lb.metrics.MeterNames}, bound once, recorded through fields. */
@NullMarked
package dev.lb.metrics;

import org.jspecify.annotations.NullMarked;
