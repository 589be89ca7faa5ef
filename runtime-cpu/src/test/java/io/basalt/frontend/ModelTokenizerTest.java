package io.basalt.frontend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.model.Format;
import io.basalt.model.layout.KvGeometry;
import io.basalt.model.layout.ModelInfo;
import io.basalt.spi.Architecture;
import io.basalt.spi.Backend;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which BOS/EOS a model gets, and what happens when its tokenizer has more tokens than the model. */
class ModelTokenizerTest {
    /** One layer of one 8-wide head: these descriptions are only read for their tokenizer metadata. */
    private static final KvGeometry KV = new KvGeometry(1, 1, 8);

    static ModelInfo info(String model) {
        try (CpuModelRunner runner = new CpuBackend().load(Shared.model(model), new Backend.LoadConfig(1L << 20, 4, 256))) {
            return runner.model().info();
        }
    }

    /** Runs {@code body} and returns the warnings logged on basalt.model meanwhile. */
    static List<String> warnings(Runnable body) {
        Logger log = Logger.getLogger("basalt.model");
        List<String> seen = new ArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { if (r.getLevel() == Level.WARNING) seen.add(r.getMessage()); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        log.addHandler(h);
        try {
            body.run();
        } finally {
            log.removeHandler(h);
        }
        return seen;
    }

    @Test
    void theModelsConfigDecidesBosAndEosOverTheTokenizersDefaults() {
        // gpt2-tiny-random/hf: config.json says bos_token_id = eos_token_id = 999; r50k_base would give 50256.
        ModelInfo info = info("gpt2-tiny-random/hf");
        Tokenizer tok = ModelTokenizer.forModel(info, null);
        assertEquals(999, tok.bosId());
        assertArrayEquals(new int[] {999}, tok.eosIds());   // r50k_base's 50256 is beyond this model's vocabulary
        assertArrayEquals(new int[] {999}, ModelTokenizer.promptIds(info, tok, ""));   // an empty prompt starts with BOS
        assertEquals("r50k_base", tok.name());
        assertArrayEquals(Tokenizers.r50kBase().encode("hello"), tok.encode("hello"));
    }

    @Test
    void aModelThatDeclaresNothingKeepsTheTokenizersIds() {
        ModelInfo info = info("stories260K/stories260K.bin");
        Tokenizer tok = ModelTokenizer.forModel(info, null);
        assertEquals(1, tok.bosId());
        assertArrayEquals(new int[] {2, 1}, tok.eosIds());
        Tokenizer r50k = Tokenizers.r50kBase();
        ModelInfo none = new ModelInfo(Architecture.GPT2, Path.of("none"), Format.SAFETENSORS, 50257, 1024, 1, 8, KV, 0, Map.of());
        assertSame(r50k, ModelTokenizer.withDeclaredSpecials(none, r50k));
    }

    @Test
    void generationConfigWinsOverConfigAndIdsOutsideTheVocabularyAreIgnored(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("generation_config.json"), "{\"bos_token_id\": 7, \"eos_token_id\": [9, 10]}");
        ModelInfo info = new ModelInfo(Architecture.GPT2, dir, Format.SAFETENSORS, 1000, 64, 1, 8, KV, 0,
                Map.of("bos_token_id", 5, "eos_token_id", List.of(6, 5000)));
        Tokenizer tok = ModelTokenizer.withDeclaredSpecials(info, Tokenizers.r50kBase());
        assertEquals(7, tok.bosId());
        assertArrayEquals(new int[] {9, 10}, tok.eosIds());
        // a tokenizer EOS the model has stays, first (a chat template's eos_token maps to it)
        ModelInfo full = new ModelInfo(Architecture.GPT2, Path.of("none"), Format.SAFETENSORS, 50257, 64, 1, 8, KV, 0,
                Map.of("eos_token_id", 9));
        assertArrayEquals(new int[] {50256, 9}, ModelTokenizer.withDeclaredSpecials(full, Tokenizers.r50kBase()).eosIds());
        ModelInfo tooBig = new ModelInfo(Architecture.GPT2, Path.of("none"), Format.SAFETENSORS, 1000, 64, 1, 8, KV, 0,
                Map.of("bos_token_id", 1000, "eos_token_id", 4000));
        assertEquals(50256, ModelTokenizer.withDeclaredSpecials(tooBig, Tokenizers.r50kBase()).bosId());
    }

    @Test
    void textBeyondTheModelsVocabularySaysTheTokenizerAndTheModelDisagree() {
        ModelInfo info = info("gpt2-tiny-random/hf");
        List<String> warned = warnings(() -> ModelTokenizer.forModel(info, null));
        assertEquals(1, warned.size(), warned.toString());
        assertTrue(warned.getFirst().contains("r50k_base has 50257 tokens") && warned.getFirst().contains("only 1000")
                && warned.getFirst().contains("--tokenizer"), warned.getFirst());
        Tokenizer tok = ModelTokenizer.forModel(info, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelTokenizer.promptIds(info, tok, "Hello"));
        assertEquals("the tokenizer r50k_base (50257 tokens) produced token id 15496, beyond the model's vocabulary of 1000 tokens: "
                + "the tokenizer and the model disagree; pass the model's own tokenizer with --tokenizer", e.getMessage());
        // what the tokenizer makes of the text is still available (for /tokenize)
        assertArrayEquals(new int[] {15496}, ModelTokenizer.tokenizePrompt(info, tok, "Hello"));
        // a matching pair neither warns nor refuses
        ModelInfo stories = info("stories260K/stories260K.bin");
        assertEquals(List.of(), warnings(() -> ModelTokenizer.forModel(stories, null)));
        assertEquals(1, ModelTokenizer.promptIds(stories, ModelTokenizer.forModel(stories, null), "Once upon a time")[0]);
    }
}
