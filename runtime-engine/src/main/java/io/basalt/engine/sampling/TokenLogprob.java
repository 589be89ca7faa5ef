package io.basalt.engine.sampling;

/** One entry of a position's top alternatives: a token and its raw log-probability. */
public record TokenLogprob(int tokenId, float logprob) {}
