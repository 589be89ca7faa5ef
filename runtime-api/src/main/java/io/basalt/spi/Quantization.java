package io.basalt.spi;

/** Block quantization of the float weight matrices at load ({@code --quantize}); {@code NONE} keeps the storage dtype. */
public enum Quantization { NONE, Q8_0 }
