package io.basalt.engine;

import io.basalt.api.FinishReason;
import io.basalt.engine.sampling.Sample;
import java.util.List;

/** What a request's listener receives, per choice, in order. */
public sealed interface StreamEvent {
    int choiceIndex();

    /** New tokens and the text they completed (text may lag tokens: held-back UTF-8 or stop-string prefixes). */
    record Delta(int choiceIndex, int[] tokenIds, String text, List<Sample> logprobs) implements StreamEvent { }

    /** The choice ended; {@code text} is any text released at the end. */
    record Finished(int choiceIndex, FinishReason reason, String text, int numPromptTokens, int numGeneratedTokens)
            implements StreamEvent { }

    /** The choice failed inside the engine (e.g. the backend threw). */
    record Failed(int choiceIndex, String message) implements StreamEvent { }
}
