@NullMarked
package dev.lb.server.admin;

import org.jspecify.annotations.NullMarked;
