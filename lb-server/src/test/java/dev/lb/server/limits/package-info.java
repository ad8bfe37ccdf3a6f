/** Tests of the JDBC store (on H2 and PostgreSQL) and of the service that keeps the registry in step with it. */
@NullMarked
package dev.lb.server.limits;

import org.jspecify.annotations.NullMarked;
