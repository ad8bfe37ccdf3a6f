package dev.lb.server;

import dev.lb.server.demo.DemoBackend;
import dev.lb.transport.Transport;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/** {@code lb backend --port N [--name NAME]}: a demo backend that answers every request with JSON about itself. */
@Command(name = "backend", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
    description = "Runs a demo backend: every request gets JSON naming the backend, the method, path and request "
        + "headers; GET /health answers 200.")
final class BackendCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = "--port", required = true, paramLabel = "N", description = "TCP port")
  private int port;

  @Option(names = "--name", paramLabel = "NAME", description = "name in every answer (default: backend-PORT)")
  private String name = "";

  @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "0.0.0.0",
      description = "address to bind (default: ${DEFAULT-VALUE})")
  private String host = "0.0.0.0";

  @Override
  public Integer call() throws InterruptedException {
    java.io.PrintWriter out = spec.commandLine().getOut();
    java.io.PrintWriter err = spec.commandLine().getErr();
    if (port < 1 || port > 65535) {
      err.println("--port: " + port + " (expected: an integer from 1 to 65535)");
      return 2;
    }
    String backendName = name.isEmpty() ? "backend-" + port : name;
    EventLoopGroup group = Transport.detect().newGroup(1, "lb-demo-backend");
    DemoBackend backend;
    try {
      backend = DemoBackend.start(host, port, backendName, group);
    } catch (RuntimeException e) {
      err.println("lb: " + Failures.describe(e));
      err.flush();
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      return 1;
    }
    out.println("demo backend " + backendName + " on http://" + host + ":" + backend.localAddress().getPort()
        + " (GET /health answers 200); Ctrl-C stops it");
    out.flush();
    CountDownLatch stop = new CountDownLatch(1);
    Signals.onStop(stop::countDown);
    stop.await();
    backend.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    return 0;
  }
}
