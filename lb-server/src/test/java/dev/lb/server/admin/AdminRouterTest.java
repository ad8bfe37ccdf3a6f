package dev.lb.server.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.server.admin.AdminRouter.RouteMatch;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Route registration and lookup, without channels. */
class AdminRouterTest {
  private static final AdminHandler NOTHING = r -> CompletableFuture.completedFuture(AdminResponse.noContent());

  @Test
  void rejectsMalformedPatterns() {
    for (String bad :
        List.of("", "healthz", "/a/{", "/a/{}", "/a/{b}c", "/a/{b}/", "/a/{b}//c", "/a/{b}/{c}", "/a{b}", "/a/{b}{c}",
            "/a/}", "/a/{b/c}", "/a?x=1")) {
      assertThatThrownBy(() -> AdminRouter.builder().route(HttpMethod.GET, bad, Access.OPEN, NOTHING))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("pattern: " + bad);
    }
  }

  @Test
  void rejectsTheSameMethodAndPathTwice() {
    AdminRouter.Builder builder =
        AdminRouter.builder()
            .route(HttpMethod.GET, "/clients/{client_id}", Access.MANAGEMENT, NOTHING)
            .route(HttpMethod.DELETE, "/clients/{id}", Access.MANAGEMENT, NOTHING);

    assertThatThrownBy(
            () -> builder.routeBlocking(HttpMethod.GET, "/clients/{other}", Access.MANAGEMENT, r -> null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GET /clients/{other}");
  }

  @Test
  void anExactPathWinsOverAParameter() {
    AdminRouter router =
        AdminRouter.builder()
            .route(HttpMethod.GET, "/clients/{client_id}", Access.MANAGEMENT, NOTHING)
            .route(HttpMethod.GET, "/clients/stats", Access.OPEN, NOTHING)
            .build();

    RouteMatch stats = router.match(HttpMethod.GET, "/clients/stats");
    RouteMatch client = router.match(HttpMethod.GET, "/clients/stat");

    assertThat(stats.route()).isNotNull();
    assertThat(stats.route().access()).isEqualTo(Access.OPEN);
    assertThat(stats.rawParam()).isNull();
    assertThat(client.route()).isNotNull();
    assertThat(client.route().pattern().paramName()).isEqualTo("client_id");
    assertThat(client.rawParam()).isEqualTo("stat");
  }

  @Test
  void aParameterMayBeFollowedByOneFixedSegment() {
    AdminRouter router =
        AdminRouter.builder()
            .route(HttpMethod.GET, "/backends", Access.MANAGEMENT, NOTHING)
            .route(HttpMethod.POST, "/backends/{id}/drain", Access.MANAGEMENT, NOTHING)
            .route(HttpMethod.POST, "/backends/{id}/ready", Access.MANAGEMENT, NOTHING)
            .route(HttpMethod.GET, "/clients/{client_id}", Access.MANAGEMENT, NOTHING)
            .build();

    RouteMatch drain = router.match(HttpMethod.POST, "/backends/http%3A%2F%2F127.0.0.1%3A8081/drain");
    assertThat(drain.route()).isNotNull();
    assertThat(drain.route().pattern().pattern()).isEqualTo("/backends/{id}/drain");
    assertThat(drain.rawParam()).isEqualTo("http%3A%2F%2F127.0.0.1%3A8081");
    assertThat(router.match(HttpMethod.POST, "/backends/web-1/ready").rawParam()).isEqualTo("web-1");
    assertThat(router.match(HttpMethod.GET, "/backends/web-1/drain").allow()).isEqualTo("POST");

    for (String unknown : List.of("/backends//drain", "/backends/a/b/drain", "/backends/web-1/stop", "/backends/drain",
        "/clients/a/drain", "/backends/web-1/drain/", "/drain")) {
      assertThat(router.match(HttpMethod.POST, unknown)).as(unknown).isEqualTo(RouteMatch.NOT_FOUND);
    }
    assertThatThrownBy(() -> AdminRouter.builder().route(HttpMethod.POST, "/a/{b}/c/d", Access.OPEN, NOTHING))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("one fixed segment");
  }

  @Test
  void headFallsBackToGetUnlessItHasItsOwnRoute() {
    AdminHandler head = r -> CompletableFuture.completedFuture(AdminResponse.noContent());
    AdminRouter router =
        AdminRouter.builder()
            .route(HttpMethod.GET, "/a", Access.OPEN, NOTHING)
            .route(HttpMethod.GET, "/b", Access.OPEN, NOTHING)
            .route(HttpMethod.HEAD, "/b", Access.OPEN, head)
            .build();

    assertThat(router.match(HttpMethod.HEAD, "/a").route().handler()).isSameAs(NOTHING);
    assertThat(router.match(HttpMethod.HEAD, "/b").route().handler()).isSameAs(head);
  }

  @Test
  void listsAllowedMethodsForAKnownPath() {
    AdminRouter router =
        AdminRouter.builder()
            .route(HttpMethod.GET, "/clients/{id}", Access.MANAGEMENT, NOTHING)
            .routeBlocking(HttpMethod.PUT, "/clients/{id}", Access.MANAGEMENT, r -> AdminResponse.noContent())
            .routeBlocking(HttpMethod.DELETE, "/clients/{id}", Access.MANAGEMENT, r -> AdminResponse.noContent())
            .build();

    RouteMatch match = router.match(HttpMethod.POST, "/clients/x");

    assertThat(match.route()).isNull();
    assertThat(match.allow()).isEqualTo("GET, HEAD, PUT, DELETE");
    assertThat(router.match(HttpMethod.POST, "/other")).isSameAs(RouteMatch.NOT_FOUND);
    assertThat(router.match(HttpMethod.PUT, "/clients/x").route().blocking()).isTrue();
    assertThat(router.match(HttpMethod.GET, "/clients/x").route().blocking()).isFalse();
  }

  @Test
  void unusualTargetsFindNothing() {
    AdminRouter router = AdminRouter.builder().route(HttpMethod.GET, "/{id}", Access.OPEN, NOTHING).build();

    assertThat(router.match(HttpMethod.GET, "/x").rawParam()).isEqualTo("x");
    assertThat(router.match(HttpMethod.OPTIONS, "*")).isSameAs(RouteMatch.NOT_FOUND);
    assertThat(router.match(HttpMethod.GET, "http://host/x")).isSameAs(RouteMatch.NOT_FOUND);
    assertThat(router.match(HttpMethod.GET, "")).isSameAs(RouteMatch.NOT_FOUND);
    assertThat(router.match(HttpMethod.GET, "/")).isSameAs(RouteMatch.NOT_FOUND);
  }

  @Test
  void decodesPathSegmentsStrictly() {
    assertThat(PathPattern.decodeSegment("a%2Fb%20c+d")).isEqualTo("a/b c+d");
    assertThat(PathPattern.decodeSegment("%e2%82%ac")).isEqualTo("€");
    assertThat(PathPattern.decodeSegment("user.1_~-")).isEqualTo("user.1_~-");
    for (String bad : List.of("%", "%4", "%4g", "%C3", "%C3%28", "%ED%A0%80", "%7F", "a b", "é")) {
      assertThatThrownBy(() -> PathPattern.decodeSegment(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
