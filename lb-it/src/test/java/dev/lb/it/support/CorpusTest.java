package dev.lb.it.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CorpusTest {

  @Test
  void escapesAndRepeatsDecode() {
    assertThat(Corpus.unescape("a\\r\\n\\t\\s\\0\\\\\\x7f\\xff"))
        .containsExactly('a', '\r', '\n', '\t', ' ', 0, '\\', 0x7f, 0xff);
    assertThat(new String(Corpus.unescape("{{3*ab\\r}}c"), StandardCharsets.ISO_8859_1)).isEqualTo("ab\rab\rab\rc");
    assertThatThrownBy(() -> Corpus.unescape("\\q")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void vectorsTakeTheirDefaultsFromTheirStatuses() {
    List<Corpus.Vector> vectors = Corpus.parse("demo.vectors", """
        # comment
        [refused]
        expect: 400
        > GET / HTTP/1.1\\r\\n
        > \\r\\n

        [served]
        class: other
        expect: 200 201
        header: x-a: b\\tc
        absent: te
        echo: hi
        > GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n
        """);
    assertThat(vectors).hasSize(2);
    Corpus.Vector refused = vectors.get(0);
    assertThat(refused.kind()).isEqualTo("demo");
    assertThat(refused.close()).isTrue();
    assertThat(refused.backendRequests()).isZero();
    assertThat(new String(refused.request(), StandardCharsets.US_ASCII)).isEqualTo("GET / HTTP/1.1\r\n\r\n");
    Corpus.Vector served = vectors.get(1);
    assertThat(served.kind()).isEqualTo("other");
    assertThat(served.close()).isFalse();
    assertThat(served.backendRequests()).isEqualTo(2);
    assertThat(served.headers()).containsExactly(Map.entry("x-a", "b\tc"));
    assertThat(served.absent()).containsExactly("te");
    assertThat(served.echo()).isEqualTo("hi".getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void theShippedCorpusLoadsWithUniqueNames() {
    assertThat(Corpus.load()).hasSizeGreaterThanOrEqualTo(150);
  }
}
