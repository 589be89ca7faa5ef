package io.basalt.spi;

/**
 * How a backend stores the float weight matrices once loaded ({@code --dtype}). {@code AUTO} keeps what the
 * checkpoint stores; a type the backend cannot hold is its load error, which says why.
 */
public enum StorageDtype { AUTO, FP32, BF16, F16 }
