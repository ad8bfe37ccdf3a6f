package dev.lb.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrailerFieldsTest {
  @Test
  void noTrailersIsANoOpEvenWhenReadOnly() {
    TrailerFields.strip(EmptyHttpHeaders.INSTANCE);
    TrailerFields.strip(LastHttpContent.EMPTY_LAST_CONTENT.trailingHeaders());
    assertThat(LastHttpContent.EMPTY_LAST_CONTENT.trailingHeaders().isEmpty()).isTrue();
  }

  @Test
  void forbiddenFieldsGoInAnyCaseAndOthersStay() {
    HttpHeaders trailers = new DefaultHttpHeaders()
        .add("HOST", "evil")
        .add("Content-Length", "5")
        .add("content-length", "6")
        .add("aUtHoRiZaTiOn", "Basic x")
        .add("Transfer-Encoding", "chunked")
        .add("Set-Cookie", "a=b")
        .add("Connection", "close")
        .add("Trailer", "X-Checksum")
        .add("X-Checksum", "abc")
        .add("Server-Timing", "db;dur=5")
        .add("X-Host", "kept");
    TrailerFields.strip(trailers);
    assertThat(names(trailers)).containsExactly("X-Checksum", "Server-Timing", "X-Host");
    assertThat(trailers.get("x-checksum")).isEqualTo("abc");
  }

  @Test
  void everyNameOfTheSetIsDropped() {
    HttpHeaders trailers = new DefaultHttpHeaders();
    for (CharSequence name : TrailerFields.FORBIDDEN) {
      trailers.add(name.toString().toUpperCase(java.util.Locale.ROOT), "v");
    }
    trailers.add("X-Allowed", "1");
    TrailerFields.strip(trailers);
    assertThat(names(trailers)).containsExactly("X-Allowed");
  }

  private static List<String> names(HttpHeaders headers) {
    List<String> names = new ArrayList<>();
    for (Map.Entry<String, String> e : headers) {
      names.add(e.getKey());
    }
    return names;
  }
}
