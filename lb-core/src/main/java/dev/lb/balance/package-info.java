/**
 * Balancing algorithms: plain Java, no Netty, each a small class behind {@link dev.lb.balance.LoadBalancer}.
 */
@NullMarked
package dev.lb.balance;

import org.jspecify.annotations.NullMarked;
