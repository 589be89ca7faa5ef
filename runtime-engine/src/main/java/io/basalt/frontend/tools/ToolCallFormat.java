package io.basalt.frontend.tools;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How a model family writes tool calls, by the names vLLM's {@code --tool-call-parser} uses. {@link #HARMONY} is
 * gpt-oss's (fixed for that model, read from token ids); the others are read from text by a
 * {@link TextToolCallParser}.
 */
public enum ToolCallFormat {
    /** {@code <tool_call>{"name", "arguments"}</tool_call>} (Hermes, Qwen). */
    HERMES("hermes", List.of()),
    /** Llama 3.1 JSON: {@code {"name", "parameters"}} separated by {@code ;}; {@code <|eom_id|>} may end the message. */
    LLAMA3_JSON("llama3_json", List.of("<|eom_id|>")),
    /** gpt-oss harmony: a call ends at {@code <|call|>}, an answer at {@code <|return|>}. */
    HARMONY("harmony", List.of("<|call|>", "<|return|>"));

    private static final Pattern PARAMETERS_KEY = Pattern.compile("\\\\?\"parameters\\\\?\"");

    private final String cliName;
    private final List<String> stopTokens;

    ToolCallFormat(String cliName, List<String> stopTokens) {
        this.cliName = cliName;
        this.stopTokens = stopTokens;
    }

    /** The name {@code --tool-call-parser} takes. */
    public String cliName() { return cliName; }

    /** Special tokens (as text) that end the model's message when tools are active, besides its EOS. */
    public List<String> stopTokens() { return stopTokens; }

    /** Every name, for messages. */
    public static List<String> names() { return Arrays.stream(values()).map(ToolCallFormat::cliName).toList(); }

    /** The format called {@code name}; an unknown name is an IllegalArgumentException listing the choices. */
    public static ToolCallFormat parse(String name) {
        String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        for (ToolCallFormat f : values()) if (f.cliName.equals(n)) return f;
        throw new IllegalArgumentException("--tool-call-parser must be one of " + String.join(", ", names()) + ", got '" + name + "'");
    }

    /**
     * The format a Jinja chat template's own text implies, or null: {@code <tool_call>} → hermes;
     * {@code <|python_tag|>}, an {@code ipython} role or a {@code "parameters"} key → llama3_json. A template that
     * never mentions {@code tools} takes none, whatever else it says.
     */
    public static ToolCallFormat detect(String templateSource) {
        if (templateSource == null || !templateSource.contains("tools")) return null;
        if (templateSource.contains("<tool_call>")) return HERMES;
        if (templateSource.contains("<|python_tag|>") || templateSource.contains("ipython")
                || PARAMETERS_KEY.matcher(templateSource).find()) {
            return LLAMA3_JSON;
        }
        return null;
    }

    /** A parser for one choice's text; harmony reads token ids and has its own parser (an IllegalStateException here). */
    public ToolCallParser newTextParser(Collection<String> functionNames, ToolCallIds ids) {
        return switch (this) {
            case HERMES -> new HermesToolParser(functionNames, ids);
            case LLAMA3_JSON -> new Llama3JsonToolParser(functionNames, ids);
            case HARMONY -> throw new IllegalStateException("harmony calls are read from token ids (HarmonyToolParser)");
        };
    }
}
