package io.basalt.api;

/** Why a generation ended, with the OpenAI API's names. */
public enum FinishReason {
    /** A stop token (end of sequence) was produced. */
    STOP,
    /** max_tokens was reached, or the model's context length. */
    LENGTH;

    public String openAiName() { return name().toLowerCase(java.util.Locale.ROOT); }
}
