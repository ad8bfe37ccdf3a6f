@NullMarked
package dev.lb.server.demo;

import org.jspecify.annotations.NullMarked;
