package dev.lb.proxy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A deliberately strict, incremental HTTP/1.1 request parser for the byte stream lb writes on one backend connection.
 * It accepts only what a careful proxy should ever send, and records as a violation anything a lenient backend could
 * read differently from lb: lines not ending in CRLF, bare CR or LF, NUL or other control characters in a head,
 * obs-fold, both {@code Content-Length} and {@code Transfer-Encoding}, more than one {@code Content-Length}, a
 * transfer coding that does not end in {@code chunked}, malformed chunk framing, and so on. Bodies are framed as RFC
 * 9112 says, so that every request that follows on the connection is found (a smuggled one included).
 *
 * <p>After the first violation the stream's framing is unknown and parsing stops.
 */
final class StrictRequestParser {

  /** A request head as written upstream. */
  static final class Request {
    final String method;
    final String target;
    final String version;
    final List<String[]> headers;
    /** Set by the harness: the connection closed without answering (lb may send the request again elsewhere). */
    boolean dropped;
    boolean complete;

    Request(String method, String target, String version, List<String[]> headers) {
      this.method = method;
      this.target = target;
      this.version = version;
      this.headers = headers;
    }

    List<String> all(String name) {
      List<String> out = new ArrayList<>(1);
      for (String[] h : headers) {
        if (h[0].equalsIgnoreCase(name)) {
          out.add(h[1]);
        }
      }
      return out;
    }

    boolean has(String name, String valueToken) {
      for (String v : all(name)) {
        for (String t : v.split(",")) {
          if (t.trim().equalsIgnoreCase(valueToken)) {
            return true;
          }
        }
      }
      return false;
    }

    @Override
    public String toString() {
      return method + " " + target + " " + version;
    }
  }

  /** Told of each request as its head and then its end arrive. */
  interface Listener {
    void onHead(StrictRequestParser parser, Request request);

    void onComplete(StrictRequestParser parser, Request request);
  }

  private enum State { HEAD, LENGTH_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, TUNNEL, BROKEN }

  private static final int MAX_LINE = 1 << 20;

  private final String name;
  private final Listener listener;
  private final List<String> violations;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private State state = State.HEAD;
  private long remaining;
  private final List<String> headLines = new ArrayList<>();
  private final List<Request> requests = new ArrayList<>();
  private Request current;

  /**
   * @param name how violations name this connection
   * @param violations where violations are recorded
   */
  StrictRequestParser(String name, Listener listener, List<String> violations) {
    this.name = name;
    this.listener = listener;
    this.violations = violations;
  }

  List<Request> requests() {
    return requests;
  }

  /** The stream is no longer HTTP (a WebSocket upgrade was answered with 101): bytes pass unparsed from now on. */
  void tunnel() {
    if (state != State.BROKEN) {
      state = State.TUNNEL;
    }
  }

  boolean broken() {
    return state == State.BROKEN;
  }

  void feed(byte[] bytes) {
    int i = 0;
    while (i < bytes.length) {
      switch (state) {
        case TUNNEL:
        case BROKEN:
          return;
        case LENGTH_BODY:
        case CHUNK_DATA: {
          int n = (int) Math.min(remaining, bytes.length - i);
          i += n;
          remaining -= n;
          if (remaining == 0) {
            if (state == State.LENGTH_BODY) {
              complete();
            } else {
              state = State.CHUNK_END;
            }
          }
          break;
        }
        default: {
          byte b = bytes[i++];
          if (b != '\n') {
            if (line.size() >= MAX_LINE) {
              violation("line longer than " + MAX_LINE + " bytes");
              return;
            }
            line.write(b);
            break;
          }
          byte[] raw = line.toByteArray();
          line.reset();
          if (raw.length == 0 || raw[raw.length - 1] != '\r') {
            violation("line ends in a bare LF: " + show(raw));
            return;
          }
          onLine(raw, raw.length - 1);
        }
      }
    }
  }

  private void onLine(byte[] raw, int len) {
    for (int k = 0; k < len; k++) {
      byte c = raw[k];
      if (c == '\r') {
        violation("bare CR inside a line: " + show(raw));
        return;
      }
      if (c == 0) {
        violation("NUL inside a line: " + show(raw));
        return;
      }
    }
    String text = new String(raw, 0, len, StandardCharsets.ISO_8859_1);
    switch (state) {
      case HEAD:
        if (!text.isEmpty()) {
          headLines.add(text);
        } else if (!headLines.isEmpty()) {
          endOfHead();
        } else {
          violation("empty line where a request line was due");
        }
        break;
      case CHUNK_SIZE:
        if (!text.matches("[0-9A-Fa-f]{1,15}")) {
          violation("bad chunk size line: " + show(raw));
          return;
        }
        remaining = Long.parseLong(text, 16);
        state = remaining == 0 ? State.TRAILERS : State.CHUNK_DATA;
        break;
      case CHUNK_END:
        if (len != 0) {
          violation("chunk data not followed by CRLF: " + show(raw));
          return;
        }
        state = State.CHUNK_SIZE;
        break;
      case TRAILERS:
        if (text.isEmpty()) {
          complete();
        } else {
          String[] field = field(text);
          if (field != null) {
            String n = field[0].toLowerCase(Locale.ROOT);
            if (n.equals("content-length") || n.equals("transfer-encoding")) {
              violation("framing field in trailers: " + text);
            }
          }
        }
        break;
      default:
        throw new IllegalStateException(state.name());
    }
  }

  private void endOfHead() {
    List<String> lines = new ArrayList<>(headLines);
    headLines.clear();
    String requestLine = lines.get(0);
    String[] parts = requestLine.split(" ", -1);
    if (parts.length != 3 || !isToken(parts[0]) || !visible(parts[1]) || !parts[2].matches("HTTP/1\\.[01]")) {
      violation("malformed request line: " + show(requestLine));
      return;
    }
    List<String[]> headers = new ArrayList<>();
    for (int k = 1; k < lines.size(); k++) {
      String[] field = field(lines.get(k));
      if (field == null) {
        return;
      }
      headers.add(field);
    }
    Request req = new Request(parts[0], parts[1], parts[2], headers);
    current = req;
    requests.add(req);
    String where = req.toString();
    List<String> te = req.all("transfer-encoding");
    List<String> cl = req.all("content-length");
    if (!te.isEmpty() && !cl.isEmpty()) {
      violation("both Content-Length and Transfer-Encoding in " + where + ": " + cl + " / " + te);
      return;
    }
    if (cl.size() > 1) {
      violation("more than one Content-Length in " + where + ": " + cl);
      return;
    }
    int hosts = req.all("host").size();
    if (hosts > 1 || (hosts == 0 && req.version.equals("HTTP/1.1"))) {
      violation(hosts + " Host fields in " + where);
      return;
    }
    if (req.all("x-request-id").size() != 1) {
      violation("not exactly one X-Request-Id in " + where + ": " + req.all("x-request-id"));
      return;
    }
    listener.onHead(this, req);
    if (state == State.BROKEN) {
      return;
    }
    if (!te.isEmpty()) {
      if (req.version.equals("HTTP/1.0")) {
        violation("Transfer-Encoding in an HTTP/1.0 request: " + where);
        return;
      }
      List<String> codings = new ArrayList<>();
      for (String v : te) {
        for (String t : v.split(",", -1)) {
          codings.add(t.trim().toLowerCase(Locale.ROOT));
        }
      }
      if (!codings.get(codings.size() - 1).equals("chunked") || codings.indexOf("chunked") != codings.size() - 1) {
        violation("transfer codings not ending in one chunked: " + te + " in " + where);
        return;
      }
      state = State.CHUNK_SIZE;
    } else if (!cl.isEmpty()) {
      String v = cl.get(0);
      // Any decimal up to 2^63-1, as the contract allows (lb refuses larger ones with 400 and writes no leading zero).
      if (!v.matches("[1-9][0-9]{0,18}|0") || new java.math.BigInteger(v).bitLength() > 63) {
        violation("bad Content-Length " + show(v) + " in " + where);
        return;
      }
      remaining = Long.parseLong(v);
      if (remaining == 0) {
        complete();
      } else {
        state = State.LENGTH_BODY;
      }
    } else {
      complete();
    }
  }

  private void complete() {
    Request req = current;
    state = State.HEAD;
    current = null;
    if (req != null) {
      req.complete = true;
      listener.onComplete(this, req);
    }
  }

  /** A header field line split into name and value (OWS trimmed), or null after recording why it is bad. */
  private String[] field(String text) {
    if (text.charAt(0) == ' ' || text.charAt(0) == '\t') {
      violation("obs-fold line: " + show(text));
      return null;
    }
    int colon = text.indexOf(':');
    if (colon <= 0 || !isToken(text.substring(0, colon))) {
      violation("malformed field name: " + show(text));
      return null;
    }
    String value = text.substring(colon + 1);
    for (int k = 0; k < value.length(); k++) {
      char c = value.charAt(k);
      if (c != '\t' && (c < 0x20 || c == 0x7f)) {
        violation("control character in field value: " + show(text));
        return null;
      }
    }
    return new String[] {text.substring(0, colon), value.strip()};
  }

  private void violation(String what) {
    violations.add(name + ": " + what);
    state = State.BROKEN;
  }

  static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static boolean visible(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      if (c <= 0x20 || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  static String show(byte[] raw) {
    return show(new String(raw, StandardCharsets.ISO_8859_1));
  }

  /** Java-escaped, so that control characters show in a report. */
  static String show(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int k = 0; k < s.length() && k < 200; k++) {
      char c = s.charAt(k);
      if (c == '\r') {
        sb.append("\\r");
      } else if (c == '\n') {
        sb.append("\\n");
      } else if (c < 0x20 || c >= 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    if (s.length() > 200) {
      sb.append("...");
    }
    return sb.append('"').toString();
  }
}
