package io.basalt.server.http;

import io.basalt.server.InferenceService;
import io.basalt.server.ServerConfig;
import io.basalt.server.openai.OpenAiModel;
import io.netty.channel.group.ChannelGroup;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every connection's handlers share: the inference service, the model's OpenAI view, the
 * settings, the pool that tokenizes and submits (off the event loops), and the server's lifecycle.
 */
final class ServerContext {
    final InferenceService service;
    final OpenAiModel model;
    final ServerConfig config;
    final ExecutorService prepare;
    final ChannelGroup channels;
    /** Requests being answered (from dispatch to the last byte written or the connection closing). */
    final AtomicInteger inFlight = new AtomicInteger();
    volatile boolean closing;

    ServerContext(InferenceService service, OpenAiModel model, ServerConfig config, ExecutorService prepare, ChannelGroup channels) {
        this.service = service;
        this.model = model;
        this.config = config;
        this.prepare = prepare;
        this.channels = channels;
    }
}
