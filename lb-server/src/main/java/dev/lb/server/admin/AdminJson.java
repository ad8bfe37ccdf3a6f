package dev.lb.server.admin;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The one Jackson mapper of the admin API (thread-safe once built). Property names are snake_case, as everywhere in
 * the contract, so a record component {@code ratePerSec} is written as {@code rate_per_sec}. Reading is strict:
 * duplicate keys and trailing content are errors, since an ambiguous body must not half-apply.
 */
final class AdminJson {
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private AdminJson() {}
}
