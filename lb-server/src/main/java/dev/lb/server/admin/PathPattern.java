package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * A route's path: exact ({@code /healthz}), or a fixed prefix ending in {@code /} followed by one {@code {name}}
 * segment ({@code /clients/{client_id}}), optionally followed by a fixed suffix ({@code /backends/{id}/drain}). Matching works on the raw path, so that an encoded {@code %2F} inside the
 * parameter stays part of it instead of splitting segments; only the parameter is decoded afterwards.
 */
final class PathPattern {
  private final String pattern;
  private final String prefix;
  private final @Nullable String paramName;
  private final String suffix;

  private PathPattern(String pattern, String prefix, @Nullable String paramName, String suffix) {
    this.pattern = pattern;
    this.prefix = prefix;
    this.paramName = paramName;
    this.suffix = suffix;
  }

  /**
   * Parses a pattern.
   *
   * @throws IllegalArgumentException if it does not start with {@code /}, or has braces other than one
   *     {@code /{name}} segment, which only fixed segments may follow
   */
  static PathPattern parse(String pattern) {
    requireNonNull(pattern, "pattern");
    if (!pattern.startsWith("/") || pattern.indexOf('?') >= 0 || pattern.indexOf('#') >= 0) {
      throw new IllegalArgumentException("pattern: " + pattern + " (expected: a path starting with /)");
    }
    int open = pattern.indexOf('{');
    if (open < 0) {
      if (pattern.indexOf('}') >= 0) {
        throw invalid(pattern);
      }
      return new PathPattern(pattern, pattern, null, "");
    }
    int close = pattern.indexOf('}');
    if (close < open || pattern.charAt(open - 1) != '/') {
      throw invalid(pattern);
    }
    String name = pattern.substring(open + 1, close);
    String suffix = pattern.substring(close + 1);
    boolean wellFormed =
        !name.isEmpty()
            && name.indexOf('{') < 0
            && name.indexOf('/') < 0
            && (suffix.isEmpty() || (suffix.startsWith("/") && suffix.length() > 1 && !suffix.endsWith("/")
                && !suffix.contains("//") && suffix.indexOf('{') < 0 && suffix.indexOf('}') < 0));
    if (!wellFormed) {
      throw invalid(pattern);
    }
    return new PathPattern(pattern, pattern.substring(0, open), name, suffix);
  }

  private static IllegalArgumentException invalid(String pattern) {
    return new IllegalArgumentException(
        "pattern: " + pattern + " (expected: an exact path, or one with a single /{name} segment, which only fixed "
            + "segments may follow)");
  }

  /** The pattern as registered. */
  String pattern() {
    return pattern;
  }

  /** The whole path of an exact pattern; the part before {@code {name}}, ending in {@code /}, otherwise. */
  String prefix() {
    return prefix;
  }

  /** What follows the parameter ({@code /drain}), or empty when it ends the pattern. */
  String suffix() {
    return suffix;
  }

  /** The parameter's name, or null for an exact pattern. */
  @Nullable String paramName() {
    return paramName;
  }

  /**
   * The key a raw path is looked up under among parameter patterns: everything up to and including its last
   * {@code /}. A parameter is one whole segment, so only the pattern with exactly this prefix can match.
   */
  static String parentOf(String rawPath) {
    return rawPath.substring(0, rawPath.lastIndexOf('/') + 1);
  }

  /**
   * Percent-decodes one raw path segment, strictly: {@code +} stays {@code +} (it means a space only in query
   * strings), the bytes must be UTF-8, and neither raw nor decoded control characters are allowed.
   *
   * @throws IllegalArgumentException if the segment does not decode cleanly
   */
  static String decodeSegment(String raw) {
    byte[] bytes = new byte[raw.length()];
    int n = 0;
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) {
          throw new IllegalArgumentException("truncated escape");
        }
        int hi = Character.digit(raw.charAt(i + 1), 16);
        int lo = Character.digit(raw.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new IllegalArgumentException("bad escape");
        }
        bytes[n++] = (byte) (hi << 4 | lo);
        i += 2;
      } else if (c > 0x20 && c < 0x7f) {
        bytes[n++] = (byte) c;
      } else {
        throw new IllegalArgumentException("character not allowed in a path");
      }
    }
    String decoded;
    try {
      decoded =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes, 0, n))
              .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("not UTF-8", e);
    }
    for (int i = 0; i < decoded.length(); i++) {
      if (Character.isISOControl(decoded.charAt(i))) {
        throw new IllegalArgumentException("control character");
      }
    }
    return decoded;
  }

  @Override
  public String toString() {
    return pattern;
  }
}
