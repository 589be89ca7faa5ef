package io.basalt.spi;

/** The model architectures Basalt runs; every backend's runner says which one it loaded. */
public enum Architecture { GPT2, LLAMA, GPT_OSS }
