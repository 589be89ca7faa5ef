package io.basalt.server.openai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hugging Face chat templates through Jinjava, on the stories260K SentencePiece vocabulary (BOS 1, EOS 2). */
class JinjaChatTemplateTest {
    static final Tokenizer TOK = Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), 512);

    static final String CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
            + "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /** meta-llama/Llama-2-7b-chat-hf's template (slicing, .strip(), raise_exception, loop.index0). */
    static final String LLAMA2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
            + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
            + "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if loop.index0 == 0 and system_message != false %}"
            + "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
            + "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
            + "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
            + "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    /** HuggingFaceH4/zephyr-7b-beta's template (trim_blocks / lstrip_blocks matter here). */
    static final String ZEPHYR = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n"
            + "{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n"
            + "{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n"
            + "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
            + "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

    @Test
    void chatMl() {
        JinjaChatTemplate t = new JinjaChatTemplate(CHATML, TOK, "<s>", "</s>");
        assertEquals("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                t.renderText(List.of(ChatMessage.of("system", "Be kind."), ChatMessage.of("user", "Hi")), null, true));
    }

    @Test
    void llama2WithSystemPromptAndHistory() {
        JinjaChatTemplate t = new JinjaChatTemplate(LLAMA2, TOK, "<s>", "</s>");
        List<ChatMessage> m = List.of(ChatMessage.of("system", "Be kind."), ChatMessage.of("user", " Hi "),
                ChatMessage.of("assistant", "Hello"), ChatMessage.of("user", "Story?"));
        String text = t.renderText(m, null, true);
        // .strip() trims the ends of the joined content, so the user's leading space stays inside (as in Python)
        assertEquals("<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\n Hi [/INST] Hello </s><s>[INST] Story? [/INST]", text);
        int[] ids = t.render(m, null, true);
        assertEquals(1, ids[0]);                                            // the BOS text became the BOS id, once
        assertEquals(2, java.util.Arrays.stream(ids).filter(i -> i == 1).count());
        assertEquals(1, java.util.Arrays.stream(ids).filter(i -> i == 2).count());
        int[] firstTurn = TOK.encode("[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\n Hi [/INST] Hello ");
        assertArrayEquals(firstTurn, java.util.Arrays.copyOfRange(ids, 1, 1 + firstTurn.length));
    }

    @Test
    void raiseExceptionIsA400() {
        JinjaChatTemplate t = new JinjaChatTemplate(LLAMA2, TOK, "<s>", "</s>");
        OpenAiException e = assertThrows(OpenAiException.class,
                () -> t.render(List.of(ChatMessage.of("assistant", "a"), ChatMessage.of("user", "b")), null, true));
        assertEquals(400, e.status());
        assertEquals("messages", e.param());
        assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
    }

    @Test
    void zephyrWhitespaceControl() {
        JinjaChatTemplate t = new JinjaChatTemplate(ZEPHYR, TOK, "<s>", "</s>");
        assertEquals("<|system|>\nBe kind.</s>\n<|user|>\nHi</s>\n<|assistant|>\n",
                t.renderText(List.of(ChatMessage.of("system", "Be kind."), ChatMessage.of("user", "Hi")), null, true));
    }

    @Test
    void brokenTemplateIsA400NotACrash() {
        JinjaChatTemplate t = new JinjaChatTemplate("{% for m in messages %}{{ m.content | no_such_filter }}", TOK, "<s>", "</s>");
        OpenAiException e = assertThrows(OpenAiException.class, () -> t.render(List.of(ChatMessage.of("user", "x")), null, true));
        assertEquals(400, e.status());
    }

    @Test
    void templateListInTokenizerConfigPicksDefault() throws Exception {
        var json = Json.MAPPER.readTree("[{\"name\":\"tool_use\",\"template\":\"T\"},{\"name\":\"default\",\"template\":\"D\"}]");
        assertEquals("D", JinjaChatTemplate.templateFromConfig(json));
        assertEquals("S", JinjaChatTemplate.templateFromConfig(Json.MAPPER.readTree("\"S\"")));
    }
}
