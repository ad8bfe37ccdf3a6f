/**
 * TLS: the provider lb uses (BoringSSL or the JDK's), the listener's certificates chosen by SNI and re-read when their
 * files change, and the client contexts of backends reached over {@code https://}; PEM files in the forms operators
 * have them.
 */
@NullMarked
package dev.lb.tls;

import org.jspecify.annotations.NullMarked;
