package io.basalt.frontend.harmony;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.basalt.frontend.tools.Tool;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Byte-exact renderings against openai/harmony's golden files (testdata/reference/harmony, see SOURCE.md there),
 * each conversation rebuilt from the inputs of harmony's own test of the same name.
 */
class HarmonyGoldenTest {
    private static final Harmony HARMONY = Harmony.gptOss();
    private static final Tokenizer TOK = Tokenizers.o200kHarmony();
    private static final String IDENTITY = "You are ChatGPT, a large language model trained by OpenAI.";

    static String golden(String name) {
        try {
            return Files.readString(Shared.reference("harmony/" + name + ".txt")).stripTrailing();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The text must match byte for byte; {@code sameIds}: the ids too, where harmony's test compares them. */
    private static void assertRenders(String golden, HarmonyConversation conversation, boolean sameIds) {
        String expected = golden(golden);
        int[] ids = HARMONY.render(conversation);
        assertEquals(expected, TOK.decode(ids), golden);
        if (sameIds) assertArrayEquals(TOK.encodeWithSpecials(expected), ids, golden);
    }

    // --- harmony's built-in namespaces, as ToolNamespaceConfig::browser() / python() declare them (test data) ---

    static HarmonyToolNamespace browser() {
        return new HarmonyToolNamespace("browser", """
                Tool for browsing.
                The `cursor` appears in brackets before each browsing display: `[{cursor}]`.
                Cite information from the tool using the following format:
                `【{cursor}†L{line_start}(-L{line_end})?】`, for example: `【6†L9-L11】` or `【8†L3】`.
                Do not quote more than 10 words directly from the tool output.
                sources=web (default: web)""", List.of(
                new Tool("search", "Searches for information related to `query` and displays `topn` results.", """
                        {"type": "object", "properties": {"query": {"type": "string"}, "topn": {"type": "number", "default": 10},
                         "source": {"type": "string"}}, "required": ["query"]}"""),
                new Tool("open", """
                        Opens the link `id` from the page indicated by `cursor` starting at line number `loc`, showing `num_lines` lines.
                        Valid link ids are displayed with the formatting: `【{id}†.*】`.
                        If `cursor` is not provided, the most recent page is implied.
                        If `id` is a string, it is treated as a fully qualified URL associated with `source`.
                        If `loc` is not provided, the viewport will be positioned at the beginning of the document or centered on the most relevant passage, if available.
                        Use this function without `id` to scroll to a new location of an opened page.""", """
                        {"type": "object", "properties": {"id": {"type": ["number", "string"], "default": -1},
                         "cursor": {"type": "number", "default": -1}, "loc": {"type": "number", "default": -1},
                         "num_lines": {"type": "number", "default": -1}, "view_source": {"type": "boolean", "default": false},
                         "source": {"type": "string"}}}"""),
                new Tool("find", "Finds exact matches of `pattern` in the current page, or the page given by `cursor`.", """
                        {"type": "object", "properties": {"pattern": {"type": "string"}, "cursor": {"type": "number", "default": -1}},
                         "required": ["pattern"]}""")));
    }

    static HarmonyToolNamespace python() {
        return new HarmonyToolNamespace("python", "Use this tool to execute Python code in your chain of thought. The code will not be "
                + "shown to the user. This tool should be used for internal reasoning, but not for code that is intended to be visible "
                + "to the user (e.g. when creating plots, tables, or files).\n\nWhen you send a message containing Python code to python, "
                + "it will be executed in a stateful Jupyter notebook environment. python will respond with the output of the execution "
                + "or time out after 120.0 seconds. The drive at '/mnt/data' can be used to save and persist user files. Internet access "
                + "for this session is UNKNOWN. Depends on the cluster.", List.of());
    }

    static List<Tool> functionsWithParameters() {
        return List.of(
                new Tool("get_location", "Gets the location of the user.", null),
                new Tool("get_current_weather", "Gets the current weather in the provided location.", """
                        {"type": "object", "properties": {
                          "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                          "format": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"}},
                         "required": ["location"]}"""),
                new Tool("get_multiple_weathers", "Gets the current weather in the provided list of locations.", """
                        {"type": "object", "properties": {
                          "locations": {"type": "array", "items": {"type": "string"},
                                        "description": "List of city and state, e.g. [\\"San Francisco, CA\\", \\"New York, NY\\"]"},
                          "format": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"}},
                         "required": ["locations"]}"""),
                new Tool("kitchensink", "A function with various complex schemas.", """
                        {"description": "params object", "type": "object", "properties": {
                          "string": {"type": "string", "title": "STRING", "description": "A string", "examples": ["hello", "world"]},
                          "string_nullable": {"type": "string", "nullable": true, "description": "A nullable string", "default": "the default"},
                          "string_enum": {"type": "string", "enum": ["a", "b", "c"]},
                          "oneof_string_or_number": {"oneOf": [{"type": "string", "default": "default_string_in_oneof"},
                                                               {"type": "number", "description": "numbers can happen too"}],
                                                     "description": "a oneof", "default": 20}}}"""));
    }

    // --- tools ---

    @Test
    void functionsWithParametersInTheDeveloperMessage() {
        HarmonySystem system = HarmonySystem.defaults().withReasoningEffort(ReasoningEffort.HIGH).withCurrentDate("2025-06-28");
        var conversation = new HarmonyConversation(system, "Always respond in riddles",
                List.of(HarmonyMessage.user("What is the weather like in SF?")), functionsWithParameters());
        assertRenders("test_render_functions_with_parameters", conversation, false);
    }

    @Test
    void browserAndFunctionTool() {
        var conversation = new HarmonyConversation(HarmonySystem.defaults().withCurrentDate("2025-06-28").withTools(browser()), null,
                List.of(), List.of(new Tool("lookup_weather", "Use this tool to lookup the weather in a given location. Call it with the "
                + "parameter 'location', can be any textual description of a location.",
                "{\"type\": \"object\", \"properties\": {\"location\": {\"type\": \"string\"}}, \"required\": [\"location\"]}")));
        assertRenders("test_browser_and_function_tool", conversation, false);
    }

    @Test
    void browserToolOnly() {
        assertRenders("test_browser_tool_only",
                HarmonyConversation.of(HarmonySystem.defaults().withCurrentDate("2025-06-28").withTools(browser())), false);
    }

    @Test
    void browserAndPythonTool() {
        // Given in the other order: namespaces render sorted by name, as harmony's BTreeMap does.
        assertRenders("test_browser_and_python_tool",
                HarmonyConversation.of(HarmonySystem.defaults().withCurrentDate("2025-06-28").withTools(python(), browser())), false);
    }

    @Test
    void toolCallAndResultInTheHistoryKeepTheAnalysis() {
        var conversation = HarmonyConversation.of(null,
                HarmonyMessage.user("What is the weather in SF?"),
                HarmonyMessage.assistant("analysis", "User asks: “What is the weather in SF?” We need to use lookup_weather tool."),
                new HarmonyMessage("assistant", "commentary", "functions.lookup_weather", "<|constrain|>json",
                        "{\"location\": \"San Francisco\"}"),
                new HarmonyMessage("functions.lookup_weather", null, "{\"temperature\": 20, \"description\": \"sunny\"}"));
        assertRenders("test_does_not_drop_if_ongoing_analysis", conversation, true);
    }

    @Test
    void toolResponseHeader() {
        // harmony renders the reply message alone and drops its <|end|>; ours is the same up to the trailing <|end|><|start|>assistant.
        String text = TOK.decode(HARMONY.render(HarmonyConversation.of(null,
                new HarmonyMessage("browser.search", "commentary", "assistant", null, "{\"result\": \"https://openai.com/\"}"))));
        assertEquals(golden("test_tool_response_parsing") + "<|end|><|start|>assistant", text);
        assertEquals("<|start|>functions.f to=assistant<|channel|>commentary<|message|>42<|end|><|start|>assistant",
                TOK.decode(HARMONY.render(HarmonyConversation.of(null, HarmonyMessage.toolResult("f", "42")))));
    }

    // --- no tools (the system message around them) ---

    @Test
    void noTools() {
        assertRenders("test_no_tools", HarmonyConversation.of(HarmonySystem.defaults().withCurrentDate("2025-06-28")), false);
    }

    @Test
    void dropsCotByDefault() {
        assertRenders("test_dropping_cot_by_default", HarmonyConversation.of(null,
                HarmonyMessage.user("What is 2 + 2?"),
                HarmonyMessage.assistant("analysis", "User asks: “What is 2 + 2?” Simple arithmetic. Provide answer."),
                HarmonyMessage.assistant("final", "2 + 2 equals 4."),
                HarmonyMessage.user("What about 9 / 2?")), false);
    }

    @Test
    void simpleConversations() {
        assertRenders("test_simple_convo", HarmonyConversation.of(HarmonySystem.defaults().withModelIdentity(IDENTITY),
                HarmonyMessage.user("What is 2 + 2?")), true);
        String question = "What is the capital of the largest country in the world?";
        for (ReasoningEffort effort : ReasoningEffort.values()) {
            HarmonySystem system = HarmonySystem.defaults().withModelIdentity(IDENTITY).withReasoningEffort(effort);
            String name = "test_simple_convo_" + effort.text() + "_effort";
            assertRenders(name, new HarmonyConversation(system, "Answer the user's questions like a robot.",
                    List.of(HarmonyMessage.user(question))), true);
            assertRenders(name + "_no_instruction", HarmonyConversation.of(system, HarmonyMessage.user(question)), true);
        }
    }

    @Test
    void reasoningSystemMessages() {
        HarmonySystem base = HarmonySystem.defaults().withModelIdentity(IDENTITY).withValidChannels(List.of("analysis", "final"));
        assertRenders("test_reasoning_system_message",
                HarmonyConversation.of(base.withReasoningEffort(ReasoningEffort.MEDIUM), HarmonyMessage.user("What is 2 + 2?")), true);
        assertRenders("test_reasoning_system_message_no_instruction",
                HarmonyConversation.of(base.withReasoningEffort(ReasoningEffort.HIGH),
                        HarmonyMessage.user("What is the best place to eat candy in the world?")), true);
        HarmonySystem dated = new HarmonySystem(IDENTITY, "2021-01", "2021-01-01", ReasoningEffort.MEDIUM, List.of("analysis", "final"));
        assertRenders("test_reasoning_system_message_with_dates", HarmonyConversation.of(dated, HarmonyMessage.user("What is 42 * pi?")), true);
    }

    /** The golden completions of harmony's parser tests, as ids. */
    static int[] goldenIds(String name) {
        List<Integer> ids = new ArrayList<>();
        for (String s : golden(name).split("\\s+")) ids.add(Integer.parseInt(s));
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
