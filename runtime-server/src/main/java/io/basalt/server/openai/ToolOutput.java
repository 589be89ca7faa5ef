package io.basalt.server.openai;

import io.basalt.frontend.tools.Tool;
import io.basalt.frontend.tools.ToolCallIds;
import io.basalt.frontend.tools.ToolCallParser;
import java.util.List;

/**
 * How one request's generated output becomes tool calls: a fresh parser per choice (and per read of a whole
 * choice), and the finish_reason of a choice that stopped normally. {@link #auto} reads the model's own call
 * format (the chat template's parser); a constrained {@code tool_choice} brings its own.
 */
public interface ToolOutput {
    /** A parser for one choice's output; {@code ids} gives its call ids. */
    ToolCallParser newParser(ToolCallIds ids);

    /** finish_reason of a choice that stopped (not cut by length) after {@code calls} calls. */
    default String stopReason(int calls) { return calls > 0 ? "tool_calls" : "stop"; }

    /** The model's own call format, parsed by its template's parser ({@code tool_choice} auto). */
    static ToolOutput auto(ChatTemplate template, List<Tool> tools) {
        return ids -> template.newToolParser(tools, ids);
    }
}
