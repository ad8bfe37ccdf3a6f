/** The access log: one line per request, written through log4j2 (asynchronously, as configured by lb-server). */
@NullMarked
package dev.lb.log;

import org.jspecify.annotations.NullMarked;
