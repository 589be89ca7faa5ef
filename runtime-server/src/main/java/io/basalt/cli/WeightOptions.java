package io.basalt.cli;

import io.basalt.model.layout.LoadOptions;
import picocli.CommandLine.Option;

/**
 * {@code --dtype} and {@code --quantize}, shared by generate, logits and serve. Read as text and
 * checked in {@link #toLoadOptions()}, so a bad value is one {@code basalt: ...} line and status 2.
 */
final class WeightOptions {
    @Option(names = "--dtype", defaultValue = "auto", paramLabel = "TYPE",
            description = "Storage of the weight matrices: auto (as in the file), fp32, bf16 or f16; compute is fp32 "
                    + "(default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--quantize", defaultValue = "none", paramLabel = "METHOD",
            description = "Quantize the float weight matrices at load: none or q8_0 (GGUF-quantized tensors are used as they are; "
                    + "default: ${DEFAULT-VALUE}).")
    String quantize;

    LoadOptions toLoadOptions() { return LoadOptions.parse(dtype, quantize); }
}
