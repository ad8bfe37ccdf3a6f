package dev.lb.server.admin;

import io.netty.handler.codec.http.HttpVersion;

/**
 * Stands in, in the pipeline, for a request whose body went over the admin limit: {@link AdminAggregator} drops the
 * request and passes this on, so that {@link AdminRequestHandler} answers 413 in its turn among pipelined requests.
 * Holds no buffer.
 */
record OversizedRequest(HttpVersion version, boolean keepAlive) {}
