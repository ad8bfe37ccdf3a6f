#!/bin/sh
# Entrypoint of the lb image: sizes the JVM from the container's memory limit, then replaces itself with
# java (exec), so the JVM is PID 1 and gets SIGTERM (drain) and SIGHUP (reload) straight from the runtime.
#
#   entrypoint.sh [lb arguments...]      e.g.  serve -c /etc/lb/lb.yaml   |   backend --port 8081 --name one
#
# With a memory limit L (cgroup v2 memory.max, else cgroup v1 memory.limit_in_bytes):
#   heap    -XX:MaxRAMPercentage=LB_HEAP_PERCENT (45 by default) of L; the JVM applies the percentage to
#           the limit it detects itself, which is the same cgroup limit
#   direct  -XX:MaxDirectMemorySize=LB_DIRECT_PERCENT (25 by default) of L, in MiB; Netty keeps its buffers
#           in direct memory, which the JVM would otherwise let grow as large as the heap
#   rest    about 30% for metaspace, code cache, thread stacks, GC structures and native libraries
# With no limit ("max", absent, or cgroup v1's "unlimited" huge number) the JVM keeps its own defaults.
#
# Always: -XX:+UseG1GC (the JVM would pick the stop-the-world Serial collector in a container with one CPU
# or under 1792 MiB; G1 collects the old generation concurrently, so long-lived state such as rate-limit
# buckets does not turn into a long full-GC pause in every request's latency) and
# -XX:+ExitOnOutOfMemoryError (a JVM that ran out of memory is in an unknown state: exit, and let the
# orchestrator restart it).
#
# Environment, all optional:
#   JAVA_OPTS              more JVM options, placed after the computed ones so they win (the JVM takes the
#                          last of a repeated flag; -Xmx overrides MaxRAMPercentage); split on blanks, so a
#                          single option cannot contain a space
#   LB_HEAP_PERCENT        integer 1-90, default 45
#   LB_DIRECT_PERCENT      integer 1-90, default 25 (heap + direct may not exceed 90)
#   LB_CGROUP_MEMORY_FILE  read the limit from this file instead of the cgroup files (tests)
#   LB_CGROUP_ROOT         where the cgroup file system is mounted (default /sys/fs/cgroup; tests)
#   LB_JAVA, LB_JAR        the java launcher (default: java on PATH) and the jar (default /app/lb.jar)
#   LB_CDS_ARCHIVE         class-data-sharing archive made for this jar and JRE (default /app/lb.jsa, which the
#                          image builds); when the file is there, -XX:SharedArchiveFile=<it> starts lb about a
#                          third faster. A missing file adds nothing; an archive from another jar or JRE is ignored
#                          by the JVM (it starts as if there were none)
#   LB_ENTRYPOINT_DRY_RUN  1: print the java command, one argument per line, instead of running it
set -eu
# JAVA_OPTS is split on blanks below; never let a '*' in it expand to file names.
set -f

fail() {
  echo "entrypoint: $*" >&2
  exit 2
}

# Prints the value of a percentage variable (name, default), or fails naming it.
percent() {
  eval "value=\${$1:-$2}"
  case $value in
    '' | *[!0-9]*) fail "$1: $value (expected: an integer from 1 to 90)" ;;
  esac
  if [ "${#value}" -gt 2 ] || [ "$value" -lt 1 ] || [ "$value" -gt 90 ]; then
    fail "$1: $value (expected: an integer from 1 to 90)"
  fi
  echo "$value"
}

# Prints the file holding the container's memory limit, or nothing.
limit_file() {
  if [ -n "${LB_CGROUP_MEMORY_FILE:-}" ]; then
    echo "$LB_CGROUP_MEMORY_FILE"
    return 0
  fi
  root=${LB_CGROUP_ROOT:-/sys/fs/cgroup}
  if [ -r "$root/memory.max" ]; then
    echo "$root/memory.max"                          # cgroup v2
  elif [ -r "$root/memory/memory.limit_in_bytes" ]; then
    echo "$root/memory/memory.limit_in_bytes"        # cgroup v1
  fi
}

# Prints the memory limit in bytes, or nothing when there is none.
limit_bytes() {
  file=$(limit_file)
  if [ -z "$file" ] || [ ! -r "$file" ]; then
    return 0
  fi
  value=
  IFS= read -r value <"$file" || true                # a last line without a newline still lands in value
  case $value in
    '' | 0 | *[!0-9]*) return 0 ;;                   # "max" (cgroup v2) or anything unexpected: no limit
  esac
  # cgroup v1 says "no limit" with a huge number (LONG_MAX rounded down to a page). Anything from 1 PiB up
  # counts as none; the length test comes first so the shell never compares a number beyond 64 bits.
  if [ "${#value}" -gt 16 ] || [ "$value" -ge 1125899906842624 ]; then
    return 0
  fi
  echo "$value"
}

heap_percent=$(percent LB_HEAP_PERCENT 45)
direct_percent=$(percent LB_DIRECT_PERCENT 25)
if [ $((heap_percent + direct_percent)) -gt 90 ]; then
  fail "LB_HEAP_PERCENT + LB_DIRECT_PERCENT: $heap_percent + $direct_percent (expected: at most 90)"
fi
limit=$(limit_bytes)
java=${LB_JAVA:-java}
jar=${LB_JAR:-/app/lb.jar}
cds=${LB_CDS_ARCHIVE:-/app/lb.jsa}

# The command is built back to front in the positional parameters (POSIX sh has no arrays):
# java <always> <sizing> <JAVA_OPTS> -jar <jar> <lb arguments>
set -- -jar "$jar" "$@"
if [ -n "${JAVA_OPTS:-}" ]; then
  # shellcheck disable=SC2086 # split on purpose: JAVA_OPTS holds several options
  set -- $JAVA_OPTS "$@"
fi
if [ -n "$limit" ]; then
  # Under 1 PiB times at most 90: no overflow of the shell's 64-bit arithmetic.
  direct_mib=$((limit * direct_percent / 100 / 1048576))
  set -- "-XX:MaxRAMPercentage=$heap_percent.0" "-XX:MaxDirectMemorySize=${direct_mib}m" "$@"
fi
if [ -r "$cds" ]; then
  set -- "-XX:SharedArchiveFile=$cds" "$@"
fi
set -- -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError "$@"

if [ "${LB_ENTRYPOINT_DRY_RUN:-0}" = 1 ]; then
  printf '%s\n' "$java" "$@"
  exit 0
fi
exec "$java" "$@"
