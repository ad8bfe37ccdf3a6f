/** TLS: the provider lb uses, server certificates chosen by SNI and re-read when they change. */
@NullMarked
package dev.lb.tls;

import org.jspecify.annotations.NullMarked;
