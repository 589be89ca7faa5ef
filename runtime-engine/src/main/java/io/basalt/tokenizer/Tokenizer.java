package io.basalt.tokenizer;

/**
 * Text ↔ token ids for one model family. Implementations are immutable and safe to share between
 * threads; per-sequence decoding state lives in {@link IncrementalDecoder}.
 */
public interface Tokenizer {
    int vocabSize();

    /**
     * Plain text → ids. No BOS is added; special-token text is treated as ordinary text.
     * SentencePiece-style tokenizers add their dummy-prefix space here for non-empty text (llama2.c rules).
     */
    int[] encode(String text);

    /** Like {@link #encode}, but the text of special tokens (e.g. "<|start|>") becomes the special ids. */
    int[] encodeWithSpecials(String text);

    /** The id to start a sequence with (Llama: 1; GPT-2: 50256; gpt-oss: 199998 <|startoftext|>), or -1. */
    int bosId();

    /** Ids that end generation (Llama: 2; GPT-2: 50256; gpt-oss harmony: 200002, 200012, 199999). */
    int[] eosIds();

    /**
     * The bytes token {@code id} contributes to the text when it follows token {@code previousId}
     * (-1 at the start). Handles llama2.c's rules: the piece right after BOS drops its leading space;
     * "&lt;0xHH&gt;" pieces are the raw byte; BOS/EOS/control pieces contribute nothing.
     * The bytes may be part of a UTF-8 character; {@link IncrementalDecoder} reassembles them.
     */
    byte[] decodeBytes(int previousId, int id);

    /** Whole-sequence decode (UTF-8, invalid sequences replaced by U+FFFD). */
    String decode(int[] ids);

    /** What this tokenizer is, for messages ("r50k_base", "tokenizer.json in gpt2/", "tok512.bin"). */
    default String name() { return "the tokenizer"; }

}
