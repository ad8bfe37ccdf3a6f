/**
 * Backends found in DNS: {@link dev.lb.discovery.DnsDiscovery} resolves names (A and AAAA records with a configured
 * port, or SRV records with their own ports and weights) with Netty's non-blocking resolver on one event loop,
 * re-resolves each at its records' TTL, rides out failing and vanishing names, and hands each name's
 * {@link dev.lb.discovery.Member member} set to a listener whenever it changes.
 */
@NullMarked
package dev.lb.discovery;

import org.jspecify.annotations.NullMarked;
