package dev.lb.server.limits;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** What lb does to a store URL before connecting (H2 settings, the directory of a file database), and how it shows one. */
final class StoreUrls {
  private static final String H2_PREFIX = "jdbc:h2:";

  /**
   * Settings that let H2 run the PostgreSQL migrations and queries unchanged: PostgreSQL's syntax
   * ({@code ON CONFLICT DO NOTHING}), lower-case unquoted names, and PostgreSQL's NULL ordering.
   */
  private static final Map<String, String> H2_SETTINGS =
      Map.of("MODE", "PostgreSQL", "DATABASE_TO_LOWER", "TRUE", "DEFAULT_NULL_ORDERING", "HIGH");

  private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password=)[^&;\\s]*");
  private static final Pattern USER_INFO_PASSWORD = Pattern.compile("(//[^/:@\\s]*:)[^/@\\s]*@");
  /** An H2 URL scheme other than {@code file:} ({@code mem:}, {@code tcp:}, {@code ssl:}, {@code zip:}, ...). */
  private static final Pattern OTHER_H2_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9]+:.*");

  private StoreUrls() {}

  static boolean isH2(String url) {
    return url.regionMatches(true, 0, H2_PREFIX, 0, H2_PREFIX.length());
  }

  /** An H2 URL with the PostgreSQL compatibility settings added where the URL does not set them itself. */
  static String withH2Settings(String url) {
    String upper = url.toUpperCase(Locale.ROOT);
    StringBuilder out = new StringBuilder(url);
    // A fixed order keeps the URL the same on every replica and in every log line.
    for (String key : new String[] {"MODE", "DATABASE_TO_LOWER", "DEFAULT_NULL_ORDERING"}) {
      if (!upper.contains(";" + key + "=")) {
        out.append(';').append(key).append('=').append(H2_SETTINGS.get(key));
      }
    }
    return out.toString();
  }

  /** The URL, or any text naming it, with passwords replaced by {@code ***}: safe for logs and error lines. */
  static String mask(String text) {
    String masked = PASSWORD_PARAMETER.matcher(text).replaceAll("$1***");
    return USER_INFO_PASSWORD.matcher(masked).replaceAll("$1***@");
  }

  /**
   * The directory an embedded H2 file database lives in ({@code jdbc:h2:file:./data/lb} or {@code jdbc:h2:./data/lb}
   * give {@code ./data}), or null for any other URL (in-memory, a server, another database).
   */
  static @Nullable Path h2Directory(String url) {
    if (!isH2(url)) {
      return null;
    }
    String path = url.substring(H2_PREFIX.length());
    int settings = path.indexOf(';');
    if (settings >= 0) {
      path = path.substring(0, settings);
    }
    if (path.regionMatches(true, 0, "file:", 0, 5)) {
      path = path.substring(5);
    } else if (OTHER_H2_SCHEME.matcher(path).matches()) {
      // mem:, tcp:, ssl:, zip:, split:, nio... (a one-letter prefix is a Windows drive, not a scheme)
      return null;
    }
    if (path.startsWith("~")) {
      path = System.getProperty("user.home") + path.substring(1);
    }
    if (path.isEmpty()) {
      return null;
    }
    return Path.of(path).toAbsolutePath().normalize().getParent();
  }
}
