package io.basalt.bench;

import io.basalt.backend.cpu.model.Gpt2;
import io.basalt.backend.cpu.model.Llama;
import io.basalt.backend.cpu.model.Model;
import io.basalt.model.layout.Gpt2Config;
import io.basalt.model.layout.LlamaConfig;

/**
 * The sizes that decide what one token costs, and the analytic accounting the benchmark divides by
 * the machine probes: bytes a decode step reads and floating-point operations a token needs.
 *
 * <p>Matrices (every projection and the lm_head) are read at the storage's bytes per parameter; the
 * norm scales and biases are fp32 vectors; the input embedding costs one row per token (GPT-2: plus
 * one row of the position table), not the whole table, even when it is tied to the lm_head. The KV
 * cache is fp32: a token at context {@code ctx} (positions attended, itself included) reads
 * {@code 2 · layers · kvDim · 4 · ctx} bytes. FLOPs count 2 per multiply-add of the matrices, plus
 * attention {@code 4 · layers · qDim · ctx} (q·k and the weighted sum of v, over all query heads).
 *
 * @param qDim  query width (heads · head size)
 * @param kvDim key (= value) width per position and layer (KV heads · head size)
 * @param ffn   feed-forward hidden width
 */
public record ModelShape(Kind kind, int layers, int dim, int qDim, int kvDim, int ffn, int vocab, int maxPositions) {
    public enum Kind { LLAMA, GPT2 }

    /** The shape of a loaded model. */
    public static ModelShape of(Model model) {
        return switch (model) {
            case Llama l -> {
                LlamaConfig c = l.config();
                yield new ModelShape(Kind.LLAMA, c.numLayers(), c.hiddenSize(), c.hiddenSize(), c.kvDim(), c.intermediateSize(),
                        c.vocabSize(), c.maxPositions());
            }
            case Gpt2 g -> {
                Gpt2Config c = g.config();
                yield new ModelShape(Kind.GPT2, c.numLayers(), c.hiddenSize(), c.hiddenSize(), c.hiddenSize(), 4 * c.hiddenSize(),
                        c.vocabSize(), c.maxPositions());
            }
            default -> throw new IllegalArgumentException("no accounting for " + model.info().architecture());
        };
    }

    /** Matrix parameters of one block. */
    public long layerMatrixParams() {
        long d = dim;
        return switch (kind) {
            case LLAMA -> d * qDim + 2 * d * kvDim + (long) qDim * d + 3 * d * ffn; // q, k, v, o; gate, up, down
            case GPT2 -> d * (qDim + 2L * kvDim) + (long) qDim * d + 2 * d * ffn;   // qkv, proj; fc, fc proj
        };
    }

    public long lmHeadParams() { return (long) vocab * dim; }

    /** Every matrix a token passes through, the lm_head included. */
    public long matrixParams() { return layers * layerMatrixParams() + lmHeadParams(); }

    /** fp32 norm scales and biases read per token. */
    public long vectorParams() {
        long d = dim;
        return switch (kind) {
            case LLAMA -> layers * 2 * d + d;
            case GPT2 -> layers * (4 * d + qDim + 2L * kvDim + d + ffn + d) + 2 * d; // 2 LayerNorms, 4 biases; final LayerNorm
        };
    }

    /** KV bytes a token reads at context {@code ctx} (fp32 keys and values of every layer). */
    public double kvBytes(double ctx) { return 2.0 * layers * kvDim * 4 * ctx; }

    /** Bytes of weights one decode token (or one batched step) reads, matrices at {@code bytesPerParam}; no KV. */
    public double weightBytesPerToken(double bytesPerParam) {
        double embeddingRows = switch (kind) {
            case LLAMA -> dim * bytesPerParam;
            case GPT2 -> 2.0 * dim * 4; // token row + position row, fp32 (GPT-2 weights are read in fp32)
        };
        return matrixParams() * bytesPerParam + vectorParams() * 4.0 + embeddingRows;
    }

    /** Bytes one single-stream decode token reads at context {@code ctx}: weights plus KV. */
    public double decodeBytesPerToken(double bytesPerParam, double ctx) {
        return weightBytesPerToken(bytesPerParam) + kvBytes(ctx);
    }

    /** Attention FLOPs of one token at context {@code ctx}. */
    public double attentionFlops(double ctx) { return 4.0 * layers * qDim * ctx; }

    /** FLOPs of one decode token at context {@code ctx}: 2 per matrix parameter plus attention. */
    public double decodeFlopsPerToken(double ctx) { return 2.0 * matrixParams() + attentionFlops(ctx); }

    /**
     * FLOPs of a prefill of {@code tokens} tokens from an empty cache that asks for the last token's
     * logits only: the lm_head runs once, attention is causal (token p attends p + 1 positions).
     */
    public double prefillFlops(int tokens) {
        double matrices = 2.0 * layers * layerMatrixParams() * tokens + 2.0 * lmHeadParams();
        return matrices + attentionFlops((double) tokens * (tokens + 1) / 2);
    }
}
