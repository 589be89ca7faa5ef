package io.basalt.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.EncodingType;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Factories for the tokenizers Basalt supports. Every returned tokenizer is immutable and thread-safe. */
public final class Tokenizers {
    private Tokenizers() {}

    /** GPT-2 / r50k_base: 50256 ranks + <|endoftext|>. */
    static final int R50K_ORDINARY = 50256, R50K_ENDOFTEXT = 50256, R50K_VOCAB = 50257;
    /** o200k_harmony (gpt-oss): 199998 o200k_base ranks + specials up to 201087 (MODELS.md). */
    static final int O200K_ORDINARY = 199998, HARMONY_VOCAB = 201088;
    static final int STARTOFTEXT = 199998, ENDOFTEXT = 199999, RETURN = 200002, CALL = 200012;

    /** llama2.c tokenizer.bin / tok512.bin (vocabSize = number of records to read, or -1 = until EOF). */
    public static Tokenizer llama2c(Path tokenizerBin, int vocabSize) {
        return SentencePieceLoader.llama2c(tokenizerBin, vocabSize);
    }

    /**
     * GGUF embedded vocabulary, from the file's metadata ("tokenizer.ggml.*"). Only SentencePiece
     * ("llama") vocabularies are supported; anything else is a {@link io.basalt.model.ModelFormatException}.
     */
    public static Tokenizer gguf(Path file, Map<String, Object> metadata) {
        return SentencePieceLoader.gguf(file, metadata);
    }

    /** GPT-2, via JTokkit's bundled r50k_base ranks. */
    public static Tokenizer r50kBase() { return R50k.TOKENIZER; }

    /** gpt-oss: JTokkit's o200k_base ranks + the harmony specials 199998..201087, vocabSize 201088. */
    public static Tokenizer o200kHarmony() { return O200kHarmony.TOKENIZER; }

    /** A Hugging Face tokenizer.json (or a directory holding one), via DJL's HuggingFaceTokenizer. */
    public static Tokenizer huggingFace(Path tokenizerJson) {
        return HuggingFaceTokenizerAdapter.load(tokenizerJson);
    }

    /** The harmony specials, in the order of openai/gpt-oss tokenizer.py (later names win when decoding). */
    static Map<String, Integer> harmonySpecials() {
        Map<String, Integer> s = new LinkedHashMap<>();
        s.put("<|endofprompt|>", 200018);   // inherited from o200k_base; decodes as <|reserved_200018|>
        s.put("<|startoftext|>", STARTOFTEXT);
        s.put("<|endoftext|>", ENDOFTEXT);
        s.put("<|reserved_200000|>", 200000);
        s.put("<|reserved_200001|>", 200001);
        s.put("<|return|>", RETURN);
        s.put("<|constrain|>", 200003);
        s.put("<|reserved_200004|>", 200004);
        s.put("<|channel|>", 200005);
        s.put("<|start|>", 200006);
        s.put("<|end|>", 200007);
        s.put("<|message|>", 200008);
        s.put("<|reserved_200009|>", 200009);
        s.put("<|reserved_200010|>", 200010);
        s.put("<|reserved_200011|>", 200011);
        s.put("<|call|>", CALL);
        for (int i = 200013; i < HARMONY_VOCAB; i++) s.put("<|reserved_" + i + "|>", i);
        return s;
    }

    /**
     * Loading ranks takes ~0.5 s and tens of MB, so each tiktoken tokenizer is built once, on first
     * use; one holder class per tokenizer so that using one never loads the other.
     */
    private static final class R50k {
        static final Tokenizer TOKENIZER = new TiktokenTokenizer("r50k_base",
                Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE),
                R50K_ORDINARY, R50K_VOCAB, Map.of("<|endoftext|>", R50K_ENDOFTEXT),
                R50K_ENDOFTEXT, new int[] {R50K_ENDOFTEXT});
    }

    private static final class O200kHarmony {
        static final Tokenizer TOKENIZER = new TiktokenTokenizer("o200k_harmony",
                Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE),
                O200K_ORDINARY, HARMONY_VOCAB, harmonySpecials(),
                STARTOFTEXT, new int[] {RETURN, CALL, ENDOFTEXT});
    }
}
