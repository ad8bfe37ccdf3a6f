package dev.lb.discovery;

import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of one {@link Watch}, for the admin API and logs.
 *
 * @param name the name watched
 * @param type {@code "A/AAAA"} or {@code "SRV"}
 * @param members the members reported last (the last good set, kept through failures and the NX hold), sorted
 * @param lastAnswer when a name server last answered for the name, NXDOMAIN and empty answers included; null before
 *     the first answer
 * @param lastError the last failure or negative answer ({@code timeout}, {@code SERVFAIL}, {@code REFUSED},
 *     {@code NXDOMAIN}, {@code no records}, ...); null when there was none yet
 * @param lastErrorAt when {@code lastError} happened
 * @param nxSince since when the name has answered NXDOMAIN or no records without a good answer in between; null when
 *     its last answer was good
 * @param nextRefresh when the name is resolved next (when the first resolution starts, before it has; or when the
 *     watch was closed)
 */
public record WatchStatus(
    String name,
    String type,
    List<Member> members,
    @Nullable Instant lastAnswer,
    @Nullable String lastError,
    @Nullable Instant lastErrorAt,
    @Nullable Instant nxSince,
    Instant nextRefresh) {

  public WatchStatus {
    members = List.copyOf(members);
  }
}
