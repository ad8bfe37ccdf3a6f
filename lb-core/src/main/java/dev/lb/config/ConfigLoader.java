package dev.lb.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Reads the YAML configuration into an {@link LbConfig}.
 *
 * <p>Keys are snake_case; every key but {@code backends} has a default; unknown keys are errors. Scalar values may
 * use {@code ${VAR}} and {@code ${VAR:-default}}, replaced from the environment after the YAML is parsed (so the
 * result can be a number, a boolean or a duration). Every bad value is reported, one line each in document order, as
 * {@code path.to.field: value (expected: ...)}, in a single {@link ConfigException}.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  /** Loads {@code file}, taking {@code ${VAR}} values from the process environment. */
  public static LbConfig load(Path file) throws ConfigException {
    return load(file, System.getenv());
  }

  /** Loads {@code file}, taking {@code ${VAR}} values from {@code env}. */
  public static LbConfig load(Path file, Map<String, String> env) throws ConfigException {
    return parse(read(file), env, file.toString());
  }

  /** Reads a YAML document, taking {@code ${VAR}} values from {@code env}. */
  public static LbConfig parse(String yaml, Map<String, String> env) throws ConfigException {
    return parse(yaml, env, null);
  }

  private static LbConfig parse(String yaml, Map<String, String> env, @Nullable String source)
      throws ConfigException {
    return ConfigBinder.bind(YamlTree.parse(yaml, source), env);
  }

  private static String read(Path file) throws ConfigException {
    try {
      String text = Files.readString(file);
      // Editors on some systems start UTF-8 files with a byte order mark, which YAML does not expect.
      return text.startsWith("\uFEFF") ? text.substring(1) : text;
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": file not found");
    } catch (AccessDeniedException e) {
      throw new ConfigException(file + ": permission denied");
    } catch (CharacterCodingException e) {
      throw new ConfigException(file + ": not UTF-8 text");
    } catch (IOException e) {
      throw new ConfigException(
          file + ": cannot read" + (Files.isDirectory(file) ? " (a directory)" : ": " + e.getMessage()));
    }
  }
}
