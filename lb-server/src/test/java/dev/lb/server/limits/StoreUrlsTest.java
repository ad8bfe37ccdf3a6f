package dev.lb.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StoreUrlsTest {
  @Test
  void h2UrlsGetThePostgresqlSettingsTheyDoNotSetThemselves() {
    assertThat(StoreUrls.withH2Settings("jdbc:h2:file:./data/lb"))
        .isEqualTo("jdbc:h2:file:./data/lb;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
    assertThat(StoreUrls.withH2Settings("jdbc:h2:mem:x;DB_CLOSE_DELAY=-1;mode=PostgreSQL"))
        .isEqualTo("jdbc:h2:mem:x;DB_CLOSE_DELAY=-1;mode=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
    assertThat(StoreUrls.isH2("JDBC:H2:mem:x")).isTrue();
    assertThat(StoreUrls.isH2("jdbc:postgresql://db/lb")).isFalse();
  }

  @Test
  void passwordsAreMasked() {
    assertThat(StoreUrls.mask("jdbc:postgresql://db:5432/lb?user=lb&password=s3cret&ssl=true"))
        .isEqualTo("jdbc:postgresql://db:5432/lb?user=lb&password=***&ssl=true");
    assertThat(StoreUrls.mask("jdbc:h2:tcp://db/lb;USER=sa;PASSWORD=s3cret"))
        .isEqualTo("jdbc:h2:tcp://db/lb;USER=sa;PASSWORD=***");
    assertThat(StoreUrls.mask("jdbc:postgresql://lb:s3cret@db/lb")).isEqualTo("jdbc:postgresql://lb:***@db/lb");
    assertThat(StoreUrls.mask("jdbc:postgresql://db:5432/lb")).isEqualTo("jdbc:postgresql://db:5432/lb");
  }

  @Test
  void onlyEmbeddedFileDatabasesHaveADirectory() {
    Path cwd = Path.of("").toAbsolutePath();
    assertThat(StoreUrls.h2Directory("jdbc:h2:file:./data/lb")).isEqualTo(cwd.resolve("data"));
    assertThat(StoreUrls.h2Directory("jdbc:h2:./data/lb;MODE=PostgreSQL")).isEqualTo(cwd.resolve("data"));
    assertThat(StoreUrls.h2Directory("jdbc:h2:file:/var/lib/lb/lb")).isEqualTo(Path.of("/var/lib/lb"));
    assertThat(StoreUrls.h2Directory("jdbc:h2:~/lb")).isEqualTo(Path.of(System.getProperty("user.home")));
    assertThat(StoreUrls.h2Directory("jdbc:h2:mem:lb")).isNull();
    assertThat(StoreUrls.h2Directory("jdbc:h2:tcp://db/lb")).isNull();
    assertThat(StoreUrls.h2Directory("jdbc:postgresql://db/lb")).isNull();
  }
}
