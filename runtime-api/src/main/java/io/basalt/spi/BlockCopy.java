package io.basalt.spi;

/** Copy the KV of block {@code source} into block {@code target} (copy-on-write for shared blocks). */
public record BlockCopy(int source, int target) { }
