package io.basalt.frontend.tools;

import java.util.Objects;

/**
 * A function the model may call, as a request declares it (OpenAI {@code tools[].function}); shared by
 * every chat format.
 *
 * @param name           the function's name ({@code ^[a-zA-Z0-9_-]+$} on the OpenAI wire)
 * @param description    what it does, or null
 * @param parametersJson its parameters as a JSON Schema object, verbatim from the request (key order matters:
 *                       harmony renders properties in insertion order), or null for a function without parameters
 * @param strict         OpenAI's {@code strict}: the arguments must match the schema exactly (a grammar constrains them)
 */
public record Tool(String name, String description, String parametersJson, boolean strict) {
    public Tool {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) throw new IllegalArgumentException("empty tool name");
    }

    public Tool(String name, String description, String parametersJson) {
        this(name, description, parametersJson, false);
    }
}
