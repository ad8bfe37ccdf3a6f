/**
 * The configuration: immutable records read from YAML by {@link dev.lb.config.ConfigLoader}, which checks every
 * field and reports all bad ones at once.
 */
@NullMarked
package dev.lb.config;

import org.jspecify.annotations.NullMarked;
