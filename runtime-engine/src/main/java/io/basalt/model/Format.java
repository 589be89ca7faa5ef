package io.basalt.model;

/** The on-disk layouts Basalt reads. */
public enum Format {
    /** Hugging Face directory: config.json + model.safetensors, or shards + model.safetensors.index.json. */
    SAFETENSORS,
    /** karpathy/llama2.c checkpoint (.bin, legacy v0 header). */
    LLAMA2C,
    /** karpathy/llm.c GPT-2 checkpoint (.bin, version 3, fp32). */
    LLMC,
    /** GGUF v3 (llama.cpp). */
    GGUF
}
