package dev.lb.server;

import dev.lb.config.ConfigException;
import dev.lb.config.ConfigLoader;
import dev.lb.config.LbConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/** {@code lb serve [-c FILE]}: runs the balancer until SIGTERM or SIGINT, then drains and exits 0. */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
    description = "Runs the balancer (the default command).")
final class ServeCommand implements Callable<Integer> {
  static final String DEFAULT_CONFIG = "config/lb.yaml";

  @Spec private CommandSpec spec;

  @Option(names = {"-c", "--config"}, paramLabel = "FILE", defaultValue = DEFAULT_CONFIG,
      description = "configuration file (default: ${DEFAULT-VALUE})")
  private Path config = Path.of(DEFAULT_CONFIG);

  ServeCommand() {}

  ServeCommand(Path config, CommandSpec spec) {
    this.config = config;
    this.spec = spec;
  }

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    LbConfig loaded;
    try {
      loaded = ConfigLoader.load(config);
    } catch (ConfigException e) {
      printErrors(err, e);
      if (config.equals(Path.of(DEFAULT_CONFIG)) && java.nio.file.Files.notExists(config)) {
        // Run outside the repository with no -c: the default path means nothing there.
        err.println("lb: give the configuration file with -c FILE (java -jar lb.jar serve -c lb.yaml); "
            + "without one, java -jar lb.jar demo runs three backends and the balancer in one process");
        err.flush();
      }
      return 2;
    }
    Logging.init(loaded.logging());
    return Runner.serve(loaded, config, err, server -> {});
  }

  static void printErrors(PrintWriter err, ConfigException e) {
    for (String line : e.errors()) {
      err.println(line);
    }
    err.flush();
  }
}
