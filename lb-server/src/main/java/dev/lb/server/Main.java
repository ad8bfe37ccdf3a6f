package dev.lb.server;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar lb.jar [serve|demo|backend|check] ...}. Without a command it serves, like {@code serve}.
 *
 * <p>Exit codes: 0 clean stop; 1 runtime failure (one line naming the cause); 2 usage or configuration error (every
 * bad field, one a line).
 */
@Command(
    name = "lb",
    mixinStandardHelpOptions = true,
    versionProvider = Main.VersionProvider.class,
    description = "HTTP load balancer and rate limiter.%nWithout a command, runs the balancer (as 'serve').",
    subcommands = {ServeCommand.class, DemoCommand.class, BackendCommand.class, CheckCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:clean stop", "1:runtime failure (port in use, ...)", "2:usage or configuration error"})
public final class Main implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = {"-c", "--config"}, paramLabel = "FILE", defaultValue = ServeCommand.DEFAULT_CONFIG,
      description = "configuration file (default: ${DEFAULT-VALUE})")
  private Path config = Path.of(ServeCommand.DEFAULT_CONFIG);

  @Override
  public Integer call() {
    return new ServeCommand(config, spec).call();
  }

  public static void main(String[] args) {
    unzeroedDirectMemory();
    quietNettyEvents();
    quietLeakDetection();
    int code = run(args);
    System.exit(code);
  }

  /**
   * Netty samples buffers for leaks by default and records a stack trace each time, which costs a proxy a few
   * percent of its throughput. lb's tests run the detector at paranoid level; in production it is off unless the
   * operator asks for it with {@code -Dio.netty.leakDetection.level=...}.
   */
  static void quietLeakDetection() {
    if (System.getProperty("io.netty.leakDetection.level") == null
        && System.getProperty("io.netty.leakDetectionLevel") == null) {
      io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
    }
  }

  /**
   * Netty registers its buffer events with Java Flight Recorder on the first buffer it allocates, which costs about
   * 0.1 s of CPU on the way to the first proxied answer; lb turns them off unless the operator asks for them with
   * {@code -Dio.netty.jfr.enabled=true}. Must run before Netty reads the property.
   */
  static void quietNettyEvents() {
    if (System.getProperty("io.netty.jfr.enabled") == null) {
      System.setProperty("io.netty.jfr.enabled", "false");
    }
  }

  /**
   * Netty's buffer pools take their direct memory in chunks; without access to {@code java.nio} they get it from
   * {@code ByteBuffer.allocateDirect}, which zeroes every byte (about a tenth of lb's CPU when 64 KiB responses
   * keep the pools turning over chunks). The jar's manifest opens {@code java.base/java.nio} and
   * {@code jdk.internal.misc} to lb; this lets Netty use them, unless the operator set the property. The start-up
   * line says which way buffers are allocated.
   */
  static void unzeroedDirectMemory() {
    if (System.getProperty("io.netty.tryReflectionSetAccessible") == null) {
      System.setProperty("io.netty.tryReflectionSetAccessible", "true");
    }
  }

  /** Runs the command line and returns the exit code. */
  public static int run(String... args) {
    return new CommandLine(new Main()).execute(args);
  }

  /** {@code --version}. */
  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"lb " + Version.get(), "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
    }
  }
}
