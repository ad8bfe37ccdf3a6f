/**
 * The demo backend: a small HTTP server that answers every request with JSON naming itself and echoing what it
 * received, used by {@code lb backend} and {@code lb demo} to show the balancer at work.
 */
@NullMarked
package dev.lb.server.demo;

import org.jspecify.annotations.NullMarked;
