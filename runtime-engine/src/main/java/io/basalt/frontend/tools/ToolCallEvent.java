package io.basalt.frontend.tools;

import java.util.Objects;

/**
 * What a {@link ToolCallParser} reports while a completion streams in. Text events carry deltas: the
 * concatenation of a kind's deltas is the whole text. A call is {@link ToolCallStart}, any number of
 * {@link ToolCallArguments} deltas, then {@link ToolCallEnd}, all with the same {@code index}; indexes count
 * the calls of one response from 0 (two calls of the same function are two indexes).
 */
public sealed interface ToolCallEvent {
    /** User-visible text (harmony: the final channel, or a commentary preamble). */
    record Content(String text) implements ToolCallEvent {
        public Content { Objects.requireNonNull(text, "text"); }
    }

    /** Reasoning text (harmony: the analysis channel). */
    record Reasoning(String text) implements ToolCallEvent {
        public Reasoning { Objects.requireNonNull(text, "text"); }
    }

    /** A call opens: its index in the response, its id and the function's name. */
    record ToolCallStart(int index, String id, String name) implements ToolCallEvent {
        public ToolCallStart {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(name, "name");
        }
    }

    /** More of call {@code index}'s arguments, as generated. */
    record ToolCallArguments(int index, String text) implements ToolCallEvent {
        public ToolCallArguments { Objects.requireNonNull(text, "text"); }
    }

    /** Call {@code index} is complete (or the completion ended inside it). */
    record ToolCallEnd(int index) implements ToolCallEvent {}
}
