/**
 * Backend health: a rise/fall policy per backend fed by active probes (on their own event loop) and by what real
 * traffic sees, and the monitor that publishes a new snapshot of the backends on every change of state.
 */
@NullMarked
package dev.lb.health;

import org.jspecify.annotations.NullMarked;
