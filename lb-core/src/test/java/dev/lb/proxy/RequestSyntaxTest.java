package dev.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The request syntax rules, called directly (the guard's tests see them through whole requests). */
class RequestSyntaxTest {

  private static HttpHeaders lengths(String... values) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (String v : values) {
      h.add(HttpHeaderNames.CONTENT_LENGTH, v);
    }
    return h;
  }

  @Test
  void aContentLengthIsOneFieldOfDigitsThatFitsInALong() {
    assertThat(RequestSyntax.contentLength(new DefaultHttpHeaders())).isEqualTo(-1);
    assertThat(RequestSyntax.contentLength(lengths("0"))).isZero();
    assertThat(RequestSyntax.contentLength(lengths("0003"))).isEqualTo(3);
    assertThat(RequestSyntax.contentLength(lengths(Long.toString(Long.MAX_VALUE)))).isEqualTo(Long.MAX_VALUE);
    for (String bad : List.of("", "0x3", "3, 3", "3.0", "abc", "3a", "1 2", "-3", "+3",
        "9223372036854775808", "99999999999999999999999", "18446744073709551619")) {
      assertThat(RequestSyntax.contentLength(lengths(bad))).as(bad).isEqualTo(RequestSyntax.INVALID_LENGTH);
    }
    assertThat(RequestSyntax.contentLength(lengths("3", "3"))).as("a repeat, even of the same value")
        .isEqualTo(RequestSyntax.INVALID_LENGTH);
  }

  @Test
  void framingFieldsAreRewrittenToTheirPlainSpellingOnly() {
    HttpHeaders zeros = lengths("0003");
    RequestSyntax.normaliseFraming(zeros, 3);
    assertThat(zeros.getAll(HttpHeaderNames.CONTENT_LENGTH)).containsExactly("3");

    HttpHeaders zero = lengths("0");
    RequestSyntax.normaliseFraming(zero, 0);
    assertThat(zero.getAll(HttpHeaderNames.CONTENT_LENGTH)).containsExactly("0");

    HttpHeaders codings = new DefaultHttpHeaders()
        .add(HttpHeaderNames.TRANSFER_ENCODING, ", GZIP,")
        .add(HttpHeaderNames.TRANSFER_ENCODING, "ChUnKeD");
    RequestSyntax.normaliseFraming(codings, -1);
    assertThat(codings.getAll(HttpHeaderNames.TRANSFER_ENCODING)).containsExactly("gzip, chunked");

    String plain = "chunked";
    HttpHeaders already = new DefaultHttpHeaders().add(HttpHeaderNames.TRANSFER_ENCODING, plain);
    RequestSyntax.normaliseFraming(already, -1);
    assertThat(already.get(HttpHeaderNames.TRANSFER_ENCODING)).as("a plain value is left as it is").isSameAs(plain);

    HttpHeaders none = new DefaultHttpHeaders().add(HttpHeaderNames.HOST, "lb");
    RequestSyntax.normaliseFraming(none, -1);
    assertThat(none.names()).containsExactly("host");
  }

  @Test
  void targetsWithControlCharactersOrSpacesAreInvalid() {
    assertThat(RequestSyntax.validTarget("/a?b=c")).isTrue();
    assertThat(RequestSyntax.validTarget("/a\u0001")).isFalse();
    assertThat(RequestSyntax.validTarget("/a b")).isFalse();
    assertThat(RequestSyntax.validTarget("/\u00e9")).isFalse();
    assertThat(RequestSyntax.validTarget("")).isFalse();
  }

  @Test
  void targetsMustBeOriginAbsoluteOrAsteriskForm() {
    assertThat(RequestSyntax.validTarget("/a?b=c")).isTrue();
    assertThat(RequestSyntax.validTarget("http://lb/a")).isTrue();
    assertThat(RequestSyntax.validTarget("HTTPS://lb")).isTrue();
    assertThat(RequestSyntax.validTarget("*")).isTrue();
    assertThat(RequestSyntax.validTarget("abs")).isFalse();
    assertThat(RequestSyntax.validTarget("/a#frag")).isFalse();
    assertThat(RequestSyntax.validTarget("http://user:pw@lb/a")).isFalse();
    assertThat(RequestSyntax.validTarget("http:/lb")).isFalse();
    assertThat(RequestSyntax.validTarget("http:///a")).as("no authority").isFalse();
    assertThat(RequestSyntax.validTarget("ftp://lb/a")).isFalse();
  }

  @Test
  void hostsThatAreAuthoritiesPass() {
    assertThat(RequestSyntax.validHost("")).isTrue();
    assertThat(RequestSyntax.validHost("lb")).isTrue();
    assertThat(RequestSyntax.validHost("lb.example:8080")).isTrue();
    assertThat(RequestSyntax.validHost("[::1]:8080")).isTrue();
    assertThat(RequestSyntax.validHost("xn--caf-dma.example")).isTrue();
    assertThat(RequestSyntax.validHost("a%2eb")).isTrue();
    assertThat(RequestSyntax.validHost("caf\u00e9")).isFalse();
    for (String bad : List.of("a b", "lb/x", "user@lb", "lb?x", "lb#x", "lb\\x", "lb\t")) {
      assertThat(RequestSyntax.validHost(bad)).as(bad).isFalse();
    }
  }

  @Test
  void anAbsoluteFormTargetMustNameTheHostFieldsAuthority() {
    assertThat(RequestSyntax.authorityMatches("http://LB:8080/a", "lb:8080")).isTrue();
    assertThat(RequestSyntax.authorityMatches("http://lb?q", "lb")).isTrue();
    assertThat(RequestSyntax.authorityMatches("/a", "anything")).isTrue();
    assertThat(RequestSyntax.authorityMatches("*", "anything")).isTrue();
    assertThat(RequestSyntax.authorityMatches("http://lb:8080/a", "lb")).isFalse();
    assertThat(RequestSyntax.authorityMatches("http://other/a", "lb")).isFalse();
  }
}
