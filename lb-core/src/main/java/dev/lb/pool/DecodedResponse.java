package dev.lb.pool;

/**
 * Marks a request whose response must reach lb decoded, never as a {@link RawResponse}: one from an HTTP/2 stream,
 * whose response is re-framed as HEADERS and DATA and so needs its fields and a body without chunked framing.
 */
public interface DecodedResponse {}
