package dev.lb.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathNormalizerTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = ' ', value = {
      "/ /",
      "/a/b /a/b",
      "/a/b/ /a/b/",
      // dot segments
      "/a/../b /b",
      "/a/./b /a/b",
      "/./a /a",
      "/a/b/.. /a/",
      "/a/b/. /a/b/",
      "/a/.. /",
      "/.. /",
      "/../../a /a",
      "/a/../../../b /b",
      "/static/../admin /admin",
      "/a/b/../../c/./d/.. /c/",
      "/..a/b.. /..a/b..",
      "/.../a /.../a",
      // encoded dots are dots
      "/static/%2e%2e/admin /admin",
      "/static/%2E%2E/admin /admin",
      "/static/.%2e/admin /admin",
      "/a/%2e/b /a/b",
      "/a/%2E /a/",
      // repeated slashes
      "//a///b// /a/b/",
      "// /",
      "/a//../b /b",
      "//../a /a",
      // unreserved characters decoded, the rest kept with upper-case hex
      "/%41%62%7e%2D%5f%30 /Ab~-_0",
      "/a%2fb /a%2Fb",
      "/a%20b /a%20b",
      "/a%3f /a%3F",
      // encoded slashes are not separators
      "/static%2F..%2Fadmin /static%2F..%2Fadmin",
      "/static/%2f..%2fadmin /static/%2F..%2Fadmin",
      "/a/%2f.. /a/%2F..",
      "/a/..%2f /a/..%2F",
      // backslashes neither
      "/static\\..\\admin /static\\..\\admin",
      "/a/..\\b /a/..\\b",
      // broken escapes are kept
      "/a%zz /a%25zz",
      "/a% /a%25",
      "/a%4 /a%254",
      "/a%4/.. /",
      "/%%2e /%25.",
      "/%4%41 /%254A",
      "/%%34%31 /%2541",
      // query and fragment are not the path
      "/a?x=/../b /a",
      "/a/../b?c=/../../d /b",
      "/a#/../b /a",
      "/?/.. /",
      // targets without a path
      "* /",
      "example.com:443 /",
      "'' /",
      "a /",
      // absolute-form
      "http://h/a/../b?q /b",
      "HTTPS://user@h:8443//x/./y /x/y",
      "http://h /",
      "http://h?x=/a /",
      "http://h:80 /",
  })
  void normalizes(String target, String path) {
    assertThat(PathNormalizer.normalize(target)).isEqualTo(path);
    assertThat(naive(target)).as("the reference agrees").isEqualTo(path);
  }

  @Test
  void normalPathsAreRecognisedAndReturnedAsTheyAre() {
    for (String path : new String[] {"/", "/a", "/a/", "/a/b.c/d", "/.a", "/a..", "/%2F", "/%20/x", "/%25zz"}) {
      assertThat(PathNormalizer.isNormal(path, 0, path.length())).as(path).isTrue();
      assertThat(PathNormalizer.normalize(path)).isEqualTo(path);
    }
    for (String path : new String[] {"//", "/a//b", "/.", "/./", "/..", "/a/../", "/%2e", "/%41", "/%2f", "/a/%7E",
        "/a%zz", "/%", "/%4"}) {
      assertThat(PathNormalizer.isNormal(path, 0, path.length())).as(path).isFalse();
    }
  }

  /**
   * Random paths from pieces that exercise every rule: the normalizer agrees with the reference, a path is "normal"
   * exactly when normalizing leaves it as it is, and normalizing twice changes nothing.
   */
  @Test
  void agreesWithTheReferenceOnRandomPaths() {
    String[] pieces = {"/", "/", "/", "a", "b", "v1", ".", "..", "%2e", "%2E", "%2e%2E", "%2F", "%2f", "%41", "%7e",
        "%20", "%", "%4", "%zz", "\\", "?", "#", "/../", "/./", "//", "x.y", "~"};
    Random random = new Random(20261206);
    for (int n = 0; n < 100_000; n++) {
      StringBuilder target = new StringBuilder("/");
      int count = random.nextInt(9);
      for (int i = 0; i < count; i++) {
        target.append(pieces[random.nextInt(pieces.length)]);
      }
      String t = target.toString();
      String normal = PathNormalizer.normalize(t);
      assertThat(normal).as(t).isEqualTo(naive(t));
      int end = RequestTarget.pathEnd(t, 0);
      boolean isNormal = normal.equals(t.substring(0, end));
      assertThat(PathNormalizer.isNormal(t, 0, end)).as("isNormal(%s)", t).isEqualTo(isNormal);
      assertThat(PathNormalizer.scanPath(t, 0)).as("scanPath(%s)", t).isEqualTo(isNormal ? end : -1 - end);
      assertThat(PathNormalizer.normalize(normal)).as("idempotent on %s", t).isEqualTo(normal);
      assertThat(PathNormalizer.isNormal(normal, 0, normal.length())).as("normal form of %s", t).isTrue();
    }
  }

  /**
   * The normal form, the obvious way: path cut at {@code ?}/{@code #}, escapes of unreserved characters decoded
   * (others upper-cased), slashes merged, then RFC 3986 5.2.4's remove_dot_segments as the RFC writes it.
   */
  static String naive(String target) {
    String path;
    if (target.startsWith("/")) {
      path = target;
    } else {
      int scheme = target.indexOf("://");
      if (scheme <= 0 || !target.substring(0, scheme).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
        return "/";
      }
      String rest = target.substring(scheme + 3);
      int slash = rest.indexOf('/');
      int other = rest.replace('#', '?').indexOf('?');
      if (slash < 0 || (other >= 0 && other < slash)) {
        return "/";
      }
      path = rest.substring(slash);
    }
    path = path.split("[?#]", -1)[0];
    StringBuilder decoded = new StringBuilder();
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '%' && i + 2 < path.length() && isHex(path.charAt(i + 1)) && isHex(path.charAt(i + 2))) {
        char d = (char) Integer.parseInt(path.substring(i + 1, i + 3), 16);
        if (Character.isLetterOrDigit(d) && d < 128 || "-._~".indexOf(d) >= 0) {
          decoded.append(d);
        } else {
          decoded.append('%').append(path.substring(i + 1, i + 3).toUpperCase());
        }
        i += 2;
      } else if (c == '%') {
        decoded.append("%25");
      } else {
        decoded.append(c);
      }
    }
    String input = decoded.toString().replaceAll("/+", "/");
    // RFC 3986 5.2.4
    Deque<String> output = new ArrayDeque<>();
    while (!input.isEmpty()) {
      if (input.startsWith("../")) {
        input = input.substring(3);
      } else if (input.startsWith("./")) {
        input = input.substring(2);
      } else if (input.startsWith("/./")) {
        input = input.substring(2);
      } else if (input.equals("/.")) {
        input = "/";
      } else if (input.startsWith("/../")) {
        input = input.substring(3);
        output.pollLast();
      } else if (input.equals("/..")) {
        input = "/";
        output.pollLast();
      } else if (input.equals(".") || input.equals("..")) {
        input = "";
      } else {
        int next = input.indexOf('/', 1);
        String segment = next < 0 ? input : input.substring(0, next);
        output.addLast(segment);
        input = input.substring(segment.length());
      }
    }
    String result = String.join("", output);
    return result.isEmpty() ? "/" : result;
  }

  private static boolean isHex(char c) {
    return Character.digit(c, 16) >= 0 && c < 128;
  }
}
