package dev.lb.server;

import dev.lb.config.ConfigException;
import dev.lb.config.ConfigLoader;
import dev.lb.config.ConfigPrinter;
import dev.lb.config.LbConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/** {@code lb check [-c FILE]}: validates a configuration and prints the effective one, secrets masked. */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
    description = "Validates a configuration and prints the effective configuration (secrets masked), then warns "
        + "(on stderr) about what is valid but will not work: every backend at weight 0, a host name that does not "
        + "resolve, a health path every backend answers 404 or refuses.%n"
        + "Exits 0 when it is valid, 2 with every bad field, one a line, when it is not.")
final class CheckCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = {"-c", "--config"}, paramLabel = "FILE", defaultValue = ServeCommand.DEFAULT_CONFIG,
      description = "configuration file (default: ${DEFAULT-VALUE})")
  private Path config = Path.of(ServeCommand.DEFAULT_CONFIG);

  @Override
  public Integer call() {
    LbConfig loaded;
    try {
      loaded = ConfigLoader.load(config);
    } catch (ConfigException e) {
      ServeCommand.printErrors(spec.commandLine().getErr(), e);
      return 2;
    }
    java.io.PrintWriter out = spec.commandLine().getOut();
    out.println("# " + config + ": valid. Effective configuration:");
    out.print(ConfigPrinter.toYaml(loaded, true));
    out.flush();
    java.io.PrintWriter err = spec.commandLine().getErr();
    for (String warning : ConfigWarnings.of(loaded)) {
      err.println("warning: " + warning);
    }
    err.flush();
    return 0;
  }
}
