package io.basalt.server.openai;

import io.basalt.api.Constraint;
import io.basalt.api.SamplingParams;
import io.basalt.frontend.tools.NamedCallParser;
import io.basalt.frontend.tools.RequiredCallsParser;
import io.basalt.frontend.tools.Tool;
import io.basalt.frontend.tools.ToolCallIds;
import io.basalt.frontend.tools.ToolCallParser;
import io.basalt.frontend.tools.ToolCallSchemas;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * How a chat request's tool_choice shapes generation (vLLM's approach: the grammar engine writes the calls):
 * the constraint, the ids appended to the rendered prompt, and how the output becomes tool calls.
 * <ul>
 *   <li>none: no constraint, no suffix, no tool parsing.
 *   <li>auto: the template's own parser reads the calls; {@code strict} tools get a tagged grammar over their arguments
 *       ({@link #strictTags}).
 *   <li>named: the function's parameters schema; the output is that call's arguments; finish_reason {@code stop}
 *       (as OpenAI answers a named tool_choice).
 *   <li>required: a JSON array of {@code {"name","parameters"}} ({@link ToolCallSchemas#required}); finish_reason
 *       {@code tool_calls}.
 * </ul>
 * The calls are compact JSON (no whitespace between tokens), as models write arguments.
 * Harmony (gpt-oss) models get the call's header appended so the JSON lands where the model writes arguments:
 * {@code <|channel|>commentary to=functions.NAME <|constrain|>json<|message|>} for a named (or the only required)
 * function, {@code <|channel|>commentary<|constrain|>json<|message|>} before the array of several.
 *
 * @param constraint   the tool_choice's grammar, or null (none/auto)
 * @param promptSuffix ids to append to the rendered prompt (often empty)
 * @param toolOutput   how the output becomes tool calls, or null when no tools are active
 */
public record ToolChoicePlan(Constraint constraint, int[] promptSuffix, ToolOutput toolOutput) {
    public ToolChoicePlan {
        promptSuffix = promptSuffix.clone();
    }

    @Override public int[] promptSuffix() { return promptSuffix.clone(); }

    public static ToolChoicePlan of(OpenAiModel model, ChatRequest req) {
        List<Tool> tools = req.activeTools();
        ChatTemplate template = model.chatTemplate();
        boolean harmony = template.name().equals("harmony") && req.addGenerationPrompt();
        return switch (req.toolChoice()) {
            case ToolChoice.None n -> new ToolChoicePlan(null, new int[0], null);
            case ToolChoice.Auto a -> new ToolChoicePlan(strictTags(template, tools), new int[0],
                    tools.isEmpty() ? null : ToolOutput.auto(template, tools));
            case ToolChoice.Named n -> named(model, tool(tools, n.name()), harmony, "stop");
            case ToolChoice.Required r -> {
                if (harmony && tools.size() == 1) yield named(model, tools.getFirst(), true, "tool_calls");
                Set<String> names = new LinkedHashSet<>();
                for (Tool t : tools) names.add(t.name());
                yield new ToolChoicePlan(new Constraint.JsonSchema(ToolCallSchemas.required(tools, req.parallelToolCalls()), true, true),
                        harmony ? model.tokenizer().encodeWithSpecials("<|channel|>commentary<|constrain|>json<|message|>") : new int[0],
                        new Forced(ids -> new RequiredCallsParser(names, ids), "tool_calls"));
            }
        };
    }

    private static ToolChoicePlan named(OpenAiModel model, Tool tool, boolean harmony, String reason) {
        int[] suffix = harmony ? model.tokenizer().encodeWithSpecials("<|channel|>commentary to=functions." + tool.name()
                + " <|constrain|>json<|message|>") : new int[0];
        return new ToolChoicePlan(new Constraint.JsonSchema(ToolCallSchemas.named(tool), true, true), suffix,
                new Forced(ids -> new NamedCallParser(tool.name(), ids), reason));
    }

    /**
     * {@code strict} tools under tool_choice auto: a tagged grammar whose regions open where the model's own call header
     * for such a tool ends (the template's {@link ChatTemplate#toolCallTags}), so their arguments are constrained and
     * everything else stays free. Null when no tool is strict, or the template knows no header.
     */
    private static Constraint strictTags(ChatTemplate template, List<Tool> tools) {
        List<Constraint.Tag> tags = new java.util.ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (Tool t : tools) {
            if (!t.strict()) continue;
            String schema = ToolCallSchemas.named(t);
            for (Constraint.Tag tag : template.toolCallTags(t, schema)) {
                if (seen.add(Arrays.toString(tag.trigger()))) tags.add(tag);
            }
        }
        return tags.isEmpty() ? null : new Constraint.Tagged(tags);
    }

    private static Tool tool(List<Tool> tools, String name) {
        for (Tool t : tools) if (t.name().equals(name)) return t;
        throw OpenAiException.invalid("tool_choice", "tool_choice names function '" + name + "', which is not in 'tools'");
    }

    /** The rendered prompt with the suffix appended. */
    public int[] prompt(int[] rendered) {
        if (promptSuffix.length == 0) return rendered;
        int[] out = Arrays.copyOf(rendered, rendered.length + promptSuffix.length);
        System.arraycopy(promptSuffix, 0, out, rendered.length, promptSuffix.length);
        return out;
    }

    /**
     * {@code params} with this plan's constraint (ChatRequest already refused response_format beside a forced call;
     * beside strict tools under auto it is refused here, where both are known).
     */
    public SamplingParams apply(SamplingParams params) {
        if (constraint == null) return params;
        if (constraint instanceof Constraint.Tagged && params.constraint().isPresent()) {
            throw OpenAiException.invalid("response_format", "response_format cannot be combined with strict tools under "
                    + "tool_choice 'auto': both constrain the output (set strict to false, or drop response_format)");
        }
        return params.toBuilder().constraint(constraint).build();
    }

    /** A constrained tool_choice's parser; {@code reason} is the finish_reason once a call was made. */
    private record Forced(Function<ToolCallIds, ToolCallParser> parsers, String reason) implements ToolOutput {
        @Override public ToolCallParser newParser(ToolCallIds ids) { return parsers.apply(ids); }

        @Override public String stopReason(int calls) { return calls > 0 ? reason : "stop"; }
    }
}
