package io.basalt.api;

/** Why a completion ended, with the OpenAI API's names. */
public enum FinishReason {
    /** A stop token, an EOS token or a stop string. */
    STOP,
    /** max_tokens was reached, or the model's context length. */
    LENGTH,
    /** The request was aborted (client gone, timeout, shutdown). */
    ABORT;

    public String openAiName() { return name().toLowerCase(java.util.Locale.ROOT); }
}
