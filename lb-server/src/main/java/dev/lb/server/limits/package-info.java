/**
 * Per-client limits kept in a database: the JDBC store, the service that applies API writes and keeps the registry
 * in step with the store (and with other replicas), and bucket levels saved across restarts.
 */
@NullMarked
package dev.lb.server.limits;

import org.jspecify.annotations.NullMarked;
