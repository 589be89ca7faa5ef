package io.basalt.backend.torch;

import ai.djl.ndarray.types.DataType;
import io.basalt.model.DType;
import io.basalt.spi.Backend;
import io.basalt.spi.Quantization;

/**
 * The one element type the torch backend stores and computes in: fp32 (default) or fp16. bf16 is
 * refused because DJL 0.35 aborts the whole JVM on any BFLOAT16 array (its type mapping throws in
 * native code), so bf16 checkpoints are widened to fp32 at load instead; there is no int8 path.
 */
enum TorchDtype {
    FP32(DataType.FLOAT32, DType.F32), FP16(DataType.FLOAT16, DType.F16);

    final DataType dataType;
    /** The same element type in the checkpoint's terms (what sizes the KV pool). */
    final DType element;
    final int bytes;

    TorchDtype(DataType dataType, DType element) {
        this.dataType = dataType;
        this.element = element;
        this.bytes = (int) element.byteSize(1);
    }

    /** From {@code --dtype} / {@code --quantize}; unsupported values are errors that say why. */
    static TorchDtype of(Backend.LoadConfig config) {
        if (config.quantization() != Quantization.NONE) {
            throw new IllegalArgumentException("the torch backend does not support --quantize "
                    + config.quantization().name().toLowerCase(java.util.Locale.ROOT)
                    + " (it computes in fp32 or f16 only; q8_0 runs on the cpu backend)");
        }
        return switch (config.storage()) {
            case AUTO, FP32 -> FP32;
            case F16 -> FP16;
            case BF16 -> throw new IllegalArgumentException("the torch backend does not support --dtype bf16: DJL 0.35 aborts the "
                    + "JVM on bf16 arrays (bf16 checkpoints are widened to fp32 at load); use fp32 or f16");
        };
    }
}
