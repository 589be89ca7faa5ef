package io.basalt.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.model.ModelFormatException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * A Hugging Face tokenizer.json, encoded and decoded by DJL's bindings to the Rust tokenizers library
 * (native code bundled in the DJL jar, so it works offline). DJL exposes no per-token byte decoding, so
 * the vocabulary is also read here ({@link HfVocab}) to give {@link #decodeBytes} raw bytes.
 *
 * <p>Limitations: the Rust library always matches added tokens in the input, so {@link #encode} also
 * turns special-token text into special ids. Special (added, special=true) tokens decode to nothing,
 * like SentencePiece control pieces and HF's {@code skip_special_tokens=True}.
 */
final class HuggingFaceTokenizerAdapter implements Tokenizer {
    private final String name;
    private final HuggingFaceTokenizer hf;
    private final HfVocab vocab;
    private final int[] byteLevelInverse = byteLevelInverse();

    private HuggingFaceTokenizerAdapter(String name, HuggingFaceTokenizer hf, HfVocab vocab) {
        this.name = name;
        this.hf = hf;
        this.vocab = vocab;
    }

    static HuggingFaceTokenizerAdapter load(Path tokenizerJson) {
        Path file = Files.isDirectory(tokenizerJson) ? tokenizerJson.resolve("tokenizer.json") : tokenizerJson;
        HfVocab vocab = HfVocab.read(file, new ObjectMapper());
        try {
            // No truncation or padding: callers decide what fits into the context.
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file,
                    Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
            Path dir = file.toAbsolutePath().getParent();
            String where = dir == null || dir.getFileName() == null ? "" : " in " + dir.getFileName() + "/";
            return new HuggingFaceTokenizerAdapter(file.getFileName() + where, hf, vocab);
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(file, "Hugging Face tokenizer cannot be loaded: " + e.getMessage(), e);
        }
    }

    @Override public String name() { return name; }
    @Override public int vocabSize() { return vocab.size(); }
    @Override public int bosId() { return vocab.bosId(); }
    @Override public int[] eosIds() { return vocab.eosIds().clone(); }

    @Override
    public int[] encode(String text) {
        if (text.isEmpty()) return new int[0];
        return Arrays.stream(hf.encode(text, false, false).getIds()).mapToInt(Math::toIntExact).toArray();
    }

    @Override
    public int[] encodeWithSpecials(String text) { return encode(text); }

    @Override
    public byte[] decodeBytes(int previousId, int id) {
        DecodeSupport.checkId(this, id);
        String token = vocab.token(id);
        if (token == null || vocab.isSpecial(id)) return DecodeSupport.EMPTY;
        if (vocab.isAdded(id)) return token.getBytes(StandardCharsets.UTF_8);
        return switch (vocab.decoderStyle()) {
            case BYTE_LEVEL -> byteLevelBytes(token);
            case SENTENCEPIECE -> sentencePieceBytes(previousId, token);
            case OTHER -> contextualBytes(previousId, id);
        };
    }

    /** GPT-2 byte-level: each char of the token stands for one byte (bytes_to_unicode, inverted). */
    private byte[] byteLevelBytes(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < byteLevelInverse.length ? byteLevelInverse[c] : -1;
            if (b < 0) return token.getBytes(StandardCharsets.UTF_8); // not a byte-level token after all
            out[i] = (byte) b;
        }
        return out;
    }

    /** Llama-style tokenizer.json: U+2581 is a space, "&lt;0xHH&gt;" is a raw byte, no space after BOS. */
    private byte[] sentencePieceBytes(int previousId, String token) {
        int raw = SentencePieceBpe.parseBytePiece(token);
        if (raw >= 0) return new byte[] {(byte) raw};
        String text = token.replace('\u2581', ' ');
        if (previousId >= 0 && previousId == vocab.bosId() && text.startsWith(" ")) text = text.substring(1);
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Other decoders (WordPiece, WordLevel, …) join tokens with context-dependent rules, so the piece
     * is what decoding the pair adds to decoding the predecessor alone.
     */
    private byte[] contextualBytes(int previousId, int id) {
        if (previousId < 0 || vocab.isSpecial(previousId) || previousId >= vocab.size()) {
            return hf.decode(new long[] {id}, true).getBytes(StandardCharsets.UTF_8);
        }
        String before = hf.decode(new long[] {previousId}, true);
        String both = hf.decode(new long[] {previousId, id}, true);
        String piece = both.startsWith(before) ? both.substring(before.length()) : hf.decode(new long[] {id}, true);
        return piece.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String decode(int[] ids) {
        return hf.decode(Arrays.stream(ids).asLongStream().toArray(), true);
    }

    /** GPT-2's bytes_to_unicode, inverted: char → byte, or -1 for chars it never produces. */
    private static int[] byteLevelInverse() {
        int[] inverse = new int[324];
        Arrays.fill(inverse, -1);
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            inverse[printable ? b : 256 + shifted++] = b;
        }
        return inverse;
    }
}
