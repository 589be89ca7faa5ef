package io.basalt.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import io.basalt.frontend.tools.Tool;
import io.basalt.frontend.tools.ToolCall;
import io.basalt.frontend.tools.ToolCallFormat;
import io.basalt.frontend.tools.ToolCallIds;
import io.basalt.frontend.tools.ToolCallParser;
import io.basalt.model.Format;
import io.basalt.server.ServedModel;
import io.basalt.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A Hugging Face chat template (Jinja), rendered with Jinjava as transformers renders it:
 * {@code trim_blocks} and {@code lstrip_blocks}, variables {@code messages} (role, content, and name /
 * reasoning_content where given), {@code add_generation_prompt}, {@code bos_token}, {@code eos_token},
 * {@code reasoning_effort}, the functions {@code raise_exception(msg)} (→ 400) and
 * {@code strftime_now(fmt)}, and a {@code tojson} filter that writes what Python's {@code json.dumps} does
 * ({@link PyJson}; {@code indent=} too). The rendered text already holds the special tokens (BOS included), so it
 * is tokenized as is, with the BOS/EOS text mapped to their ids and no BOS added.
 *
 * <p>Tools, as vLLM passes them: {@code tools} in OpenAI list form ({@code [{"type": "function", "function": {name,
 * description, parameters}}]}, parameters as nested maps; undefined without tools); an assistant message's
 * {@code tool_calls} as {@code [{id, type, function {name, arguments}}]} with the arguments parsed to an object (kept
 * as the string when they are not a JSON object), its content "" when it had none; a tool message's
 * {@code tool_call_id} and {@code name}. Calls are read back by the template's {@link ToolCallFormat}: the one
 * configured, else the one the template's text implies ({@link ToolCallFormat#detect}); a template that never
 * mentions {@code tools}, or whose format is unknown, refuses them.
 *
 * <p>Jinjava is not Python: templates that call Python string methods Jinjava lacks fail to render,
 * which is a 400 naming the template error (the server still starts; see {@link ChatTemplate#forModel}).
 */
final class JinjaChatTemplate implements ChatTemplate {
    /** Built on first use only: models without a template never load Jinjava. */
    private static final class Engine {
        static final Jinjava JINJAVA = jinjava();
    }

    private final String source;
    private final Tokenizer tokenizer;
    private final String bosToken;
    private final String eosToken;
    private final Map<String, Integer> specials = new LinkedHashMap<>();
    /** How the model writes calls, or null when unknown. */
    private final ToolCallFormat toolFormat;
    private final boolean rendersTools;

    JinjaChatTemplate(String source, Tokenizer tokenizer, String bosToken, String eosToken) {
        this(source, tokenizer, bosToken, eosToken, null);
    }

    /** @param toolFormat the configured call format, or null to detect it from the template */
    JinjaChatTemplate(String source, Tokenizer tokenizer, String bosToken, String eosToken, ToolCallFormat toolFormat) {
        this.source = JinjaWhitespace.apply(source);
        this.toolFormat = toolFormat != null ? toolFormat : ToolCallFormat.detect(source);
        this.rendersTools = source.contains("tools");
        this.tokenizer = tokenizer;
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        if (!this.bosToken.isEmpty() && tokenizer.bosId() >= 0) specials.put(this.bosToken, tokenizer.bosId());
        int[] eos = tokenizer.eosIds();
        if (!this.eosToken.isEmpty() && eos.length > 0) specials.putIfAbsent(this.eosToken, eos[0]);
    }

    private static Jinjava jinjava() {
        Jinjava j = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withMaxOutputSize(64L << 20)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUsePyishObjectMapper(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .build());
        j.registerFunction(new ELFunctionDefinition("", "raise_exception", JinjaChatTemplate.class, "raiseException", String.class));
        j.registerFunction(new ELFunctionDefinition("", "strftime_now", JinjaChatTemplate.class, "strftimeNow", String.class));
        j.getGlobalContext().registerFilter(new ToJson());
        return j;
    }

    /** The template's own error, surfaced as a 400 to the client whose messages it refused. */
    static final class TemplateException extends RuntimeException {
        TemplateException(String message) { super(message); }
    }

    public static String raiseException(String message) { throw new TemplateException(message); }

    /** Python's strftime for the directives chat templates use (%d %m %Y %y %B %b %H %M %S %A %a %%). */
    public static String strftimeNow(String format) {
        ZonedDateTime now = ZonedDateTime.now();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                sb.append(c);
                continue;
            }
            char d = format.charAt(++i);
            String pattern = switch (d) {
                case 'd' -> "dd"; case 'm' -> "MM"; case 'Y' -> "yyyy"; case 'y' -> "yy"; case 'B' -> "MMMM"; case 'b' -> "MMM";
                case 'H' -> "HH"; case 'M' -> "mm"; case 'S' -> "ss"; case 'A' -> "EEEE"; case 'a' -> "EEE";
                default -> null;
            };
            if (pattern == null) sb.append(d == '%' ? "%" : "%" + d);
            else sb.append(now.format(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH)));
        }
        return sb.toString();
    }

    /**
     * Hugging Face's {@code tojson}: {@code json.dumps(x, ensure_ascii=False, indent=indent)}; Jinjava's own filter
     * writes compact JSON, which is not what models saw in training.
     */
    static final class ToJson implements Filter {
        @Override public String getName() { return "tojson"; }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PyJson.dumps(var, args.length > 0 ? indent(args[0]) : null);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            return PyJson.dumps(var, indent == null ? null : indent(indent.toString()));
        }

        private static Integer indent(String s) {
            try {
                return Integer.valueOf(s.strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    @Override public String name() { return "jinja"; }

    /** The call format, or null when unknown. */
    ToolCallFormat toolFormat() { return toolFormat; }

    @Override public boolean supportsTools() { return toolFormat != null && rendersTools; }

    @Override
    public ToolCallParser newToolParser(List<Tool> tools, ToolCallIds ids) {
        if (!supportsTools()) throw OpenAiException.unsupported("tools", TOOLS_UNSUPPORTED);
        return toolFormat.newTextParser(tools.stream().map(Tool::name).toList(), ids);
    }

    /**
     * Strict tools under auto: regions open after the text that precedes a call's arguments in the format, as
     * {@code json.dumps} spaces it and compact — hermes {@code <tool_call>\n{"name": "NAME", "arguments":}, llama3_json
     * {@code {"name": "NAME", "parameters":} (also after {@code <|python_tag|>}). The value may start with whitespace
     * (byte-level BPE glues the space after the colon to it).
     */
    @Override
    public List<io.basalt.api.Constraint.Tag> toolCallTags(Tool tool, String argumentsSchema) {
        if (!supportsTools()) return List.of();
        String name = tool.name();
        List<String> headers = switch (toolFormat) {
            case HERMES -> List.of("<tool_call>\n{\"name\": \"" + name + "\", \"arguments\":",
                    "<tool_call>\n{\"name\":\"" + name + "\",\"arguments\":");
            case LLAMA3_JSON -> List.of("{\"name\": \"" + name + "\", \"parameters\":",
                    "<|python_tag|>{\"name\": \"" + name + "\", \"parameters\":");
            case HARMONY -> List.of();
        };
        return headers.stream().map(h -> new io.basalt.api.Constraint.Tag(tokenizer.encodeWithSpecials(h), argumentsSchema, false))
                .toList();
    }

    /** The format's end-of-message tokens that this tokenizer has as special tokens (e.g. Llama 3's {@code <|eom_id|>}). */
    @Override
    public int[] toolStopIds() {
        if (!supportsTools()) return new int[0];
        List<Integer> ids = new ArrayList<>();
        for (String t : toolFormat.stopTokens()) {
            int[] special = tokenizer.encodeWithSpecials(t);
            if (special.length == 1 && !java.util.Arrays.equals(special, tokenizer.encode(t))) ids.add(special[0]);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public int[] render(List<ChatMessage> messages, String effort, boolean addGenerationPrompt, List<Tool> tools) {
        if (!tools.isEmpty() && !supportsTools()) throw OpenAiException.unsupported("tools", TOOLS_UNSUPPORTED);
        return encode(renderText(messages, effort, addGenerationPrompt, tools));
    }

    /** The rendered text. */
    String renderText(List<ChatMessage> messages, String effort, boolean addGenerationPrompt) {
        return renderText(messages, effort, addGenerationPrompt, List.of());
    }

    /** The rendered text, declaring {@code tools} (none: the variable stays undefined, as transformers' None). */
    String renderText(List<ChatMessage> messages, String effort, boolean addGenerationPrompt, List<Tool> tools) {
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new HashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            if (m.name() != null) map.put("name", m.name());
            if (m.reasoningContent() != null) map.put("reasoning_content", m.reasoningContent());
            if (!m.toolCalls().isEmpty()) map.put("tool_calls", m.toolCalls().stream().map(JinjaChatTemplate::toolCall).toList());
            if (m.toolCallId() != null) map.put("tool_call_id", m.toolCallId());
            list.add(map);
        }
        Map<String, Object> context = new HashMap<>();
        context.put("messages", list);
        if (!tools.isEmpty()) context.put("tools", tools.stream().map(JinjaChatTemplate::tool).toList());
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        if (effort != null) context.put("reasoning_effort", effort);
        RenderResult r;
        try {
            r = Engine.JINJAVA.renderForResult(source, context);
        } catch (TemplateException e) {
            throw OpenAiException.invalid("messages", "The chat template refused the messages: " + e.getMessage());
        } catch (RuntimeException e) {
            throw OpenAiException.invalid("messages", "The model's chat template failed: " + e);
        }
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() != TemplateError.ErrorType.FATAL) continue;
            Throwable cause = e.getException();
            while (cause != null && !(cause instanceof TemplateException)) cause = cause.getCause();
            if (cause != null) throw OpenAiException.invalid("messages", "The chat template refused the messages: " + cause.getMessage());
            throw OpenAiException.invalid("messages", "The model's chat template failed: " + e.getMessage());
        }
        return r.getOutput();
    }

    @Override
    public int[] render(List<ChatMessage> messages, String effort, boolean addGenerationPrompt) {
        return encode(renderText(messages, effort, addGenerationPrompt));
    }

    /** {@code {"type": "function", "function": {name, description, parameters}}}, the schema as nested maps and lists. */
    static Map<String, Object> tool(Tool t) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", t.name());
        if (t.description() != null) function.put("description", t.description());
        if (t.parametersJson() != null) function.put("parameters", parse(t.parametersJson()));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", "function");
        out.put("function", function);
        return out;
    }

    /** {@code {"id", "type": "function", "function": {name, arguments}}}, the arguments an object when they are one. */
    static Map<String, Object> toolCall(ToolCall c) {
        Object args = parse(c.argumentsJson());
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", c.name());
        function.put("arguments", args instanceof Map<?, ?> ? args : c.argumentsJson());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", c.id());
        out.put("type", "function");
        out.put("function", function);
        return out;
    }

    /** JSON text → maps (insertion order), lists and scalars; text that is not JSON stays the string. */
    private static Object parse(String json) {
        try {
            return Json.MAPPER.readValue(json, Object.class);
        } catch (IOException | RuntimeException e) {
            return json;
        }
    }

    /** Text → ids, with the BOS/EOS text as their ids (tokenizers without special-token syntax need that). */
    int[] encode(String text) {
        List<int[]> parts = new ArrayList<>();
        int from = 0;
        while (from < text.length()) {
            int at = -1;
            String hit = null;
            for (String s : specials.keySet()) {
                int i = text.indexOf(s, from);
                if (i >= 0 && (at < 0 || i < at)) { at = i; hit = s; }
            }
            String gap = text.substring(from, at < 0 ? text.length() : at);
            if (!gap.isEmpty()) parts.add(tokenizer.encodeWithSpecials(gap));
            if (at < 0) break;
            parts.add(new int[] {specials.get(hit)});
            from = at + hit.length();
        }
        return io.basalt.tokenizer.TokenIds.concat(parts);
    }

    @Override
    public ChatOutputParser newParser(int lastPromptToken) { return ChatOutputParser.passthrough(); }

    /** The model's template, or null when it ships none. */
    static JinjaChatTemplate find(ServedModel model) { return find(model, null); }

    /** The model's template with {@code toolFormat} (null: detected), or null when it ships none. */
    static JinjaChatTemplate find(ServedModel model, ToolCallFormat toolFormat) {
        Tokenizer tok = model.tokenizer();
        Map<String, Object> meta = model.info().metadata();
        if (model.info().format() == Format.GGUF && meta != null && meta.get("tokenizer.chat_template") instanceof String t) {
            return new JinjaChatTemplate(t, tok, ggufToken(meta, tok.bosId()), ggufToken(meta, first(tok.eosIds())), toolFormat);
        }
        Path dir = modelDir(model);
        if (dir == null) return null;
        JsonNode cfg = tokenizerConfig(dir);
        String source = null;
        Path jinjaFile = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinjaFile)) {
            try {
                source = Files.readString(jinjaFile);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + jinjaFile, e);
            }
        } else if (cfg != null) {
            source = templateFromConfig(cfg.get("chat_template"));
        }
        if (source == null) return null;
        return new JinjaChatTemplate(source, tok, tokenText(cfg, "bos_token"), tokenText(cfg, "eos_token"), toolFormat);
    }

    /**
     * A template given to the server ({@code --chat-template}) in place of the model's own, with the model's BOS/EOS
     * text (tokenizer_config.json or GGUF metadata; "" when the model names none).
     */
    static JinjaChatTemplate of(String source, ServedModel model, ToolCallFormat toolFormat) {
        Tokenizer tok = model.tokenizer();
        Map<String, Object> meta = model.info().metadata();
        if (model.info().format() == Format.GGUF && meta != null) {
            return new JinjaChatTemplate(source, tok, ggufToken(meta, tok.bosId()), ggufToken(meta, first(tok.eosIds())), toolFormat);
        }
        Path dir = modelDir(model);
        JsonNode cfg = dir == null ? null : tokenizerConfig(dir);
        return new JinjaChatTemplate(source, tok, tokenText(cfg, "bos_token"), tokenText(cfg, "eos_token"), toolFormat);
    }

    private static Path modelDir(ServedModel model) {
        Path p = model.info().path();
        return Files.isDirectory(p) ? p : p.toAbsolutePath().getParent();
    }

    private static JsonNode tokenizerConfig(Path dir) {
        Path config = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(config)) return null;
        try {
            return Json.MAPPER.readTree(config.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + config, e);
        }
    }

    /** "chat_template" is a string, or a list of {"name","template"} of which "default" (else the first) is used. */
    static String templateFromConfig(JsonNode v) {
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) return v.textValue();
        if (v.isArray()) {
            String first = null;
            for (JsonNode t : v) {
                JsonNode name = t.get("name"), template = t.get("template");
                if (template == null || !template.isTextual()) continue;
                if (first == null) first = template.textValue();
                if (name != null && "default".equals(name.asText())) return template.textValue();
            }
            return first;
        }
        return null;
    }

    /** bos_token / eos_token: a string or an AddedToken object {"content": …}. */
    private static String tokenText(JsonNode cfg, String field) {
        if (cfg == null) return "";
        JsonNode v = cfg.get(field);
        if (v == null || v.isNull()) return "";
        if (v.isTextual()) return v.textValue();
        JsonNode content = v.get("content");
        return content != null && content.isTextual() ? content.textValue() : "";
    }

    private static String ggufToken(Map<String, Object> meta, int id) {
        if (id < 0) return "";
        Object tokens = meta.get("tokenizer.ggml.tokens");
        if (tokens instanceof List<?> l && id < l.size() && l.get(id) instanceof String s) return s;
        if (tokens instanceof String[] a && id < a.length) return a[id];
        return "";
    }

    private static int first(int[] ids) { return ids.length == 0 ? -1 : ids[0]; }
}
