package dev.lb.it.support;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The hostile-request corpus: raw HTTP/1.x requests kept as {@code *.vectors} files under {@code corpus/} on the test
 * class path, each with the outcome the balancer must give. The format is described in {@code corpus/README.md}.
 */
public final class Corpus {
  private static final Pattern REPEAT = Pattern.compile("\\{\\{(\\d+)\\*(.*?)}}", Pattern.DOTALL);

  /**
   * One request (or several, pipelined) and what must come of it.
   *
   * @param file the file it came from
   * @param name unique across the corpus
   * @param kind its class, e.g. {@code smuggling}
   * @param request the bytes to send, exactly
   * @param statuses the statuses of the responses, in order (empty: none)
   * @param close whether the balancer must close the connection after them
   * @param backendRequests complete requests the backend must receive
   * @param echo the body of the first 2xx response, or null when not checked
   * @param headers fields the backend's first request must carry exactly once, name (lower case) to value
   * @param absent fields (lower case) the backend's first request must not carry
   * @param trailers trailer fields the backend's first complete request must carry exactly once, name (lower case)
   *     to value
   * @param absentTrailers trailer fields (lower case) the backend's first complete request must not carry
   * @param uri the request target the backend's first request must carry, or null
   * @param note why the outcome is what it is, or empty
   */
  public record Vector(
      String file,
      String name,
      String kind,
      byte[] request,
      List<Integer> statuses,
      boolean close,
      int backendRequests,
      byte @Nullable [] echo,
      List<Map.Entry<String, String>> headers,
      List<String> absent,
      List<Map.Entry<String, String>> trailers,
      List<String> absentTrailers,
      @Nullable String uri,
      String note) {

    @Override
    public String toString() {
      return kind + "/" + name;
    }
  }

  private Corpus() {}

  /** Every vector of every {@code *.vectors} file in the {@code corpus} resource directory, by file then order. */
  public static List<Vector> load() {
    URL dir = Corpus.class.getClassLoader().getResource("corpus");
    if (dir == null) {
      throw new IllegalStateException("no corpus directory on the class path");
    }
    try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
      List<Vector> all = new ArrayList<>();
      for (Path file : files.filter(f -> f.toString().endsWith(".vectors")).sorted().toList()) {
        all.addAll(parse(file.getFileName().toString(), Files.readString(file, StandardCharsets.UTF_8)));
      }
      Set<String> names = new HashSet<>();
      for (Vector v : all) {
        if (!names.add(v.name())) {
          throw new IllegalArgumentException("vector name used twice: " + v.name());
        }
      }
      return all;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The vectors of one file's text. */
  public static List<Vector> parse(String file, String text) {
    List<Vector> vectors = new ArrayList<>();
    Builder current = null;
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      String where = file + ":" + (i + 1);
      if (line.startsWith("[")) {
        if (current != null) {
          vectors.add(current.build());
        }
        int end = line.indexOf(']');
        if (end < 2) {
          throw new IllegalArgumentException(where + ": bad vector name line: " + line);
        }
        current = new Builder(file, line.substring(1, end), where);
      } else if (line.startsWith("#") || line.isBlank()) {
        continue;
      } else if (current == null) {
        throw new IllegalArgumentException(where + ": outside a vector: " + line);
      } else if (line.startsWith("> ")) {
        current.request.append(line, 2, line.length());
      } else {
        int colon = line.indexOf(':');
        if (colon < 0) {
          throw new IllegalArgumentException(where + ": not KEY: VALUE: " + line);
        }
        current.set(line.substring(0, colon).trim(), line.substring(colon + 1).strip(), where);
      }
    }
    if (current != null) {
      vectors.add(current.build());
    }
    return vectors;
  }

  /**
   * Decodes the escapes of a {@code >} line: {@code \r \n \t \s \0 \xHH \\} and {@code {{N*TEXT}}} repetition.
   *
   * @throws IllegalArgumentException for an unknown escape
   */
  public static byte[] unescape(String text) {
    Matcher m = REPEAT.matcher(text);
    StringBuilder expanded = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(expanded, Matcher.quoteReplacement(m.group(2).repeat(Integer.parseInt(m.group(1)))));
    }
    m.appendTail(expanded);
    ByteArrayOutputStream out = new ByteArrayOutputStream(expanded.length());
    for (int i = 0; i < expanded.length(); i++) {
      char c = expanded.charAt(i);
      if (c != '\\') {
        out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        continue;
      }
      if (i + 1 >= expanded.length()) {
        throw new IllegalArgumentException("a lone backslash at the end of: " + text);
      }
      char e = expanded.charAt(++i);
      switch (e) {
        case 'r' -> out.write('\r');
        case 'n' -> out.write('\n');
        case 't' -> out.write('\t');
        case 's' -> out.write(' ');
        case '0' -> out.write(0);
        case '\\' -> out.write('\\');
        case 'x' -> {
          out.write(Integer.parseInt(expanded.substring(i + 1, i + 3), 16));
          i += 2;
        }
        default -> throw new IllegalArgumentException("unknown escape \\" + e + " in: " + text);
      }
    }
    return out.toByteArray();
  }

  private static final class Builder {
    final String file;
    final String name;
    final String where;
    final StringBuilder request = new StringBuilder();
    String kind;
    @Nullable List<Integer> statuses;
    @Nullable Boolean close;
    @Nullable Integer backend;
    byte @Nullable [] echo;
    final List<Map.Entry<String, String>> headers = new ArrayList<>();
    final List<String> absent = new ArrayList<>();
    final List<Map.Entry<String, String>> trailers = new ArrayList<>();
    final List<String> absentTrailers = new ArrayList<>();
    @Nullable String uri;
    String note = "";

    Builder(String file, String name, String where) {
      this.file = file;
      this.name = name;
      this.where = where;
      this.kind = file.replaceFirst("\\.vectors$", "");
    }

    void set(String key, String value, String at) {
      switch (key) {
        case "class" -> kind = value;
        case "expect" -> {
          List<Integer> list = new ArrayList<>();
          if (!value.equals("-")) {
            for (String s : value.split("\\s+")) {
              list.add(Integer.parseInt(s));
            }
          }
          statuses = list;
        }
        case "close" -> {
          if (!value.equals("yes") && !value.equals("no")) {
            throw new IllegalArgumentException(at + ": close: yes or no, not " + value);
          }
          close = value.equals("yes");
        }
        case "backend" -> backend = Integer.parseInt(value);
        case "echo" -> echo = unescape(value);
        case "header" -> headers.add(field(key, value, at));
        case "absent" -> absent.add(value.toLowerCase(java.util.Locale.ROOT));
        case "trailer" -> trailers.add(field(key, value, at));
        case "absent-trailer" -> absentTrailers.add(value.toLowerCase(java.util.Locale.ROOT));
        case "uri" -> uri = value;
        case "note" -> note = value;
        default -> throw new IllegalArgumentException(at + ": unknown key " + key);
      }
    }

    private static Map.Entry<String, String> field(String key, String value, String at) {
      int colon = value.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException(at + ": " + key + ": NAME: VALUE, not " + value);
      }
      String fieldValue = new String(unescape(value.substring(colon + 1).stripLeading()), StandardCharsets.UTF_8);
      return Map.entry(value.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), fieldValue);
    }

    Vector build() {
      if (statuses == null) {
        throw new IllegalArgumentException(where + ": vector " + name + " has no expect: line");
      }
      if (request.length() == 0) {
        throw new IllegalArgumentException(where + ": vector " + name + " has no request");
      }
      List<Integer> finals = statuses.stream().filter(s -> s >= 200).toList();
      boolean closes = close != null ? close : finals.isEmpty() || finals.get(finals.size() - 1) >= 400;
      int forwarded = backend != null
          ? backend
          : (int) statuses.stream().filter(s -> s >= 200 && s < 300).count();
      return new Vector(file, name, kind, unescape(request.toString()), List.copyOf(statuses), closes, forwarded,
          echo, List.copyOf(headers), List.copyOf(absent), List.copyOf(trailers), List.copyOf(absentTrailers), uri,
          requireNonNull(note));
    }
  }
}
