package io.basalt.server.openai;

import java.util.Objects;

/** A chat request's {@code tool_choice}, checked against its tools by {@link ChatRequest#parse}. */
public sealed interface ToolChoice {
    /** No calls: the tools are not declared to the model. */
    record None() implements ToolChoice { }

    /** The model decides (the default with tools). */
    record Auto() implements ToolChoice { }

    /** At least one call of a declared tool (grammar-constrained). */
    record Required() implements ToolChoice { }

    /** Exactly one call of the declared tool {@code name} (grammar-constrained). */
    record Named(String name) implements ToolChoice {
        public Named { Objects.requireNonNull(name, "name"); }
    }

    ToolChoice NONE = new None();
    ToolChoice AUTO = new Auto();
    ToolChoice REQUIRED = new Required();

    /** Whether the output is constrained to calls (required or named). */
    default boolean forcesCalls() { return this instanceof Required || this instanceof Named; }
}
