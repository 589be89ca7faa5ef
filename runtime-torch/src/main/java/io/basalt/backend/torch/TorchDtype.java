package io.basalt.backend.torch;

import ai.djl.ndarray.types.DataType;
import io.basalt.model.layout.LoadOptions;
import io.basalt.spi.Backend;

/**
 * The one element type the torch backend stores and computes in: fp32 (default) or fp16. bf16 is
 * refused because DJL 0.35 aborts the whole JVM on any BFLOAT16 array (its type mapping throws in
 * native code), so bf16 checkpoints are widened to fp32 at load instead; there is no int8 path.
 */
enum TorchDtype {
    FP32(DataType.FLOAT32, 4), FP16(DataType.FLOAT16, 2);

    final DataType dataType;
    final int bytes;

    TorchDtype(DataType dataType, int bytes) {
        this.dataType = dataType;
        this.bytes = bytes;
    }

    /** From {@code --dtype} / {@code --quantize}; unsupported values are errors that say why. */
    static TorchDtype of(Backend.LoadConfig config) {
        LoadOptions options = LoadOptions.parse(config.weightDtype(), config.quantize());
        if (options.quantize() != LoadOptions.Quantization.NONE) {
            throw new IllegalArgumentException("the torch backend does not support --quantize " + config.quantize().toLowerCase(java.util.Locale.ROOT)
                    + " (it computes in fp32 or f16 only; use --backend cpu for q8_0)");
        }
        return switch (options.storage()) {
            case AUTO, FP32 -> FP32;
            case F16 -> FP16;
            case BF16 -> throw new IllegalArgumentException("the torch backend does not support --dtype bf16: DJL 0.35 aborts the "
                    + "JVM on bf16 arrays (bf16 checkpoints are widened to fp32 at load); use fp32 or f16");
        };
    }
}
