package dev.lb.proxy;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * An unpooled allocator that remembers every buffer it hands out, so that a test can check right after a run that
 * each one was released (refCnt 0), without waiting for the garbage collector as the leak detector must. Buffers stay
 * leak-aware: the paranoid leak detector still tracks them.
 */
final class TrackingAllocator extends AbstractByteBufAllocator {
  private final List<ByteBuf> allocated = new ArrayList<>();

  TrackingAllocator() {
    super(false);
  }

  @Override
  protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
    return track(toLeakAwareBuffer(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity)));
  }

  @Override
  protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
    return track(toLeakAwareBuffer(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity)));
  }

  @Override
  public boolean isDirectBufferPooled() {
    return false;
  }

  @Override
  public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
    return track(super.compositeHeapBuffer(maxNumComponents));
  }

  @Override
  public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
    return track(super.compositeDirectBuffer(maxNumComponents));
  }

  /** A tracked heap buffer holding a copy of these bytes. */
  ByteBuf copyOf(byte[] bytes, int from, int to) {
    ByteBuf b = heapBuffer(to - from);
    b.writeBytes(bytes, from, to - from);
    return b;
  }

  private <T extends ByteBuf> T track(T buf) {
    allocated.add(buf);
    return buf;
  }

  /** Descriptions of the buffers handed out that are still referenced. */
  List<String> unreleased() {
    List<String> out = new ArrayList<>();
    for (ByteBuf b : allocated) {
      if (b.refCnt() != 0) {
        out.add(b + " refCnt=" + b.refCnt());
      }
    }
    return out;
  }

  int count() {
    return allocated.size();
  }
}
