package io.basalt.frontend.tools;

import java.util.List;

/**
 * Turns a completion's token ids, one at a time, into content, reasoning and tool-call events. One
 * instance per choice; not thread-safe. Implementations never throw on malformed model output: what
 * they cannot read as a call degrades to content (or is dropped, as the implementation documents).
 */
public interface ToolCallParser {
    /** Feeds the next generated id; returns the events it completes (often none, never null). */
    List<ToolCallEvent> accept(int tokenId);

    /**
     * Feeds a delta: the next generated ids and their decoded text (as the engine streams them). Token-level parsers
     * (harmony) read the ids and ignore the text; text-level parsers ({@link TextToolCallParser}) read the text.
     */
    default List<ToolCallEvent> accept(int[] tokenIds, String text) {
        List<ToolCallEvent> out = new java.util.ArrayList<>();
        for (int t : tokenIds) out.addAll(accept(t));
        return out;
    }

    /** The calls opened so far (a {@link ToolCallEvent.ToolCallStart} each). */
    int callCount();

    /** The completion ended (stop, length or cancel): flushes held-back text and closes an open call. */
    List<ToolCallEvent> finish();
}
