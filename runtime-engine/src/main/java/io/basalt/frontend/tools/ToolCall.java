package io.basalt.frontend.tools;

import java.util.Objects;

/**
 * One function call the model made.
 *
 * @param id            {@code call_} + 24 base62 characters ({@link ToolCallIds}), unique within its response
 * @param name          the function's name
 * @param argumentsJson the arguments exactly as the model generated them (never re-serialized; may be invalid JSON
 *                      when generation was cut short)
 */
public record ToolCall(String id, String name, String argumentsJson) {
    public ToolCall {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(argumentsJson, "argumentsJson");
    }
}
