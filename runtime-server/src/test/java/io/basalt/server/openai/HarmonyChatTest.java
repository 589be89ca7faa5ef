package io.basalt.server.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** gpt-oss chat: messages → harmony prompt, and generated ids → reasoning_content / content. */
class HarmonyChatTest {
    static final Tokenizer O200K = Tokenizers.o200kHarmony();
    static final HarmonyChatTemplate TEMPLATE = new HarmonyChatTemplate(O200K);

    static String decode(int[] ids) { return O200K.decode(ids); }

    @Test
    void rendersSystemDeveloperAndTurnsLikeVllm() {
        int[] ids = TEMPLATE.render(List.of(ChatMessage.of("system", "Be brief."), ChatMessage.of("user", "Hi"),
                new ChatMessage("assistant", "Hello!", null, "The user greets."), ChatMessage.of("user", "Weather?")), "high", true);
        String expected = "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
                + "Knowledge cutoff: 2024-06\nCurrent date: " + LocalDate.now(ZoneOffset.UTC) + "\n\nReasoning: high\n\n"
                + "# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>"
                + "<|start|>developer<|message|># Instructions\n\nBe brief.<|end|>"
                + "<|start|>user<|message|>Hi<|end|>"
                // harmony drops earlier turns' analysis once a final answer follows (auto_drop_analysis)
                + "<|start|>assistant<|channel|>final<|message|>Hello!<|end|>"
                + "<|start|>user<|message|>Weather?<|end|>"
                + "<|start|>assistant";
        assertEquals(expected, decode(ids));
        String noGeneration = decode(TEMPLATE.render(List.of(ChatMessage.of("user", "Hi")), null, false));
        assertTrue(noGeneration.endsWith("<|start|>user<|message|>Hi<|end|>"), noGeneration);
        assertTrue(noGeneration.contains("Reasoning: medium"), noGeneration);
        String keptReasoning = decode(TEMPLATE.render(List.of(ChatMessage.of("user", "Hi"),
                new ChatMessage("assistant", "", null, "Thinking.")), null, true));
        assertTrue(keptReasoning.endsWith("<|start|>assistant<|channel|>analysis<|message|>Thinking.<|end|><|start|>assistant"),
                keptReasoning);
    }

    @Test
    void toolRepliesAreAddressedToTheAssistant() {
        String s = decode(TEMPLATE.render(List.of(ChatMessage.of("user", "x"), new ChatMessage("tool", "{\"t\":20}", "get_weather", null)),
                "low", true));
        assertTrue(s.contains("<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{\"t\":20}<|end|>"), s);
    }

    @Test
    void onlyLowMediumHighEffortsAreAccepted() {
        OpenAiException e = assertThrows(OpenAiException.class,
                () -> TEMPLATE.render(List.of(ChatMessage.of("user", "x")), "minimal", true));
        assertEquals("reasoning_effort", e.param());
        assertEquals(400, e.status());
    }

    @Test
    void analysisBecomesReasoningAndFinalBecomesContentTokenByToken() {
        int[] out = O200K.encodeWithSpecials("<|channel|>analysis<|message|>User says hi. Reply briefly.<|end|>"
                + "<|start|>assistant<|channel|>final<|message|>Hello there! 👋");
        ChatOutputParser p = TEMPLATE.newParser(0);
        StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
        for (int id : out) {
            ChatOutputParser.Delta d = p.accept(new int[] {id}, "ignored");
            reasoning.append(d.reasoning());
            content.append(d.content());
        }
        ChatOutputParser.Delta tail = p.finish();
        reasoning.append(tail.reasoning());
        content.append(tail.content());
        assertEquals("User says hi. Reply briefly.", reasoning.toString());
        assertEquals("Hello there! 👋", content.toString());
        assertEquals(O200K.encode("User says hi. Reply briefly.").length, p.reasoningTokens());
    }

    @Test
    void recipientInEitherHeaderPositionAndStrayTokensAreTolerated() {
        int[] out = O200K.encodeWithSpecials("<|channel|>commentary to=functions.f <|constrain|>json<|message|>{\"a\":1}<|call|>"
                + "<|constrain|><|call|>junk<|start|>assistant to=functions.g<|channel|>commentary<|message|>{}<|end|>"
                + "<|start|>assistant<|channel|>final<|message|>done<|return|>");
        ChatOutputParser p = TEMPLATE.newParser(0);
        ChatOutputParser.Delta d = p.accept(out, "");
        assertEquals("", d.reasoning());
        assertEquals("{\"a\":1}{}done", d.content());
    }

    @Test
    void randomOutputNeverThrows() {
        Random r = new Random(7);
        int[] specials = {200002, 200003, 200005, 200006, 200007, 200008, 200012, 199999};
        for (int trial = 0; trial < 300; trial++) {
            ChatOutputParser p = TEMPLATE.newParser(0);
            for (int i = 0; i < 200; i++) {
                int id = r.nextInt(4) == 0 ? specials[r.nextInt(specials.length)] : r.nextInt(1000);
                p.accept(new int[] {id}, "");
            }
            p.finish();
        }
    }
}
