package dev.lb.server;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.EventLoopGroup;
import org.jspecify.annotations.Nullable;

/**
 * The Prometheus registry of one balancer, with JVM, process and Netty meters bound to it.
 *
 * <p>The JVM and process meters read the JVM's management beans, whose first use costs about a tenth of a second of
 * CPU; {@link #bindJvm()} binds them, and the balancer calls it once the proxy listener is up and before the admin
 * listener (which serves {@code /metrics}) opens, so that they do not delay the first proxied request and are all
 * there by the first scrape.
 */
final class Metrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private @Nullable JvmGcMetrics gc;

  Metrics() {
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider) {
      new NettyAllocatorMetrics((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).bindTo(registry);
    }
  }

  /** Binds the JVM and process meters: class loading, memory, GC, threads, CPU, uptime, file descriptors. */
  void bindJvm() {
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
  }

  PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Adds the pending-task gauges of these event loops. */
  void bindEventLoops(EventLoopGroup group) {
    new NettyEventExecutorMetrics(group).bindTo(registry);
  }

  @Override
  public void close() {
    JvmGcMetrics g = gc;
    if (g != null) {
      g.close();
    }
    registry.close();
  }
}
