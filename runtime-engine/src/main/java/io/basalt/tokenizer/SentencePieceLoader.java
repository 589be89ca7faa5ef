package io.basalt.tokenizer;

import io.basalt.model.ModelFormatException;
import io.basalt.tokenizer.SentencePieceBpe.Kind;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Builds {@link SentencePieceBpe} from a llama2.c tokenizer.bin or from GGUF tokenizer metadata. */
final class SentencePieceLoader {
    private SentencePieceLoader() {}

    /** llama2.c hard-codes these ids (run.c): BOS 1, EOS 2, raw byte b at id b + 3. */
    private static final int L2C_BOS = 1, L2C_EOS = 2, L2C_BYTE_OFFSET = 3;

    /**
     * tokenizer.bin: int32 max_token_length, then per token {float32 score, int32 length, bytes}, all
     * little-endian. The file does not store its token count; {@code vocabSize} comes from the model
     * header, or -1 reads records until the end of the file.
     */
    static SentencePieceBpe llama2c(Path file, int vocabSize) {
        ByteBuffer buf;
        try {
            buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read tokenizer: " + e.getMessage(), e);
        }
        if (buf.remaining() < 4) throw new ModelFormatException(file, "too short for a llama2.c tokenizer");
        buf.getInt(); // max_token_length: only a buffer-size hint for C readers
        List<byte[]> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (vocabSize < 0 ? buf.hasRemaining() : pieces.size() < vocabSize) {
            int index = pieces.size();
            if (buf.remaining() < 8) {
                throw new ModelFormatException(file, "truncated at token " + index
                        + (vocabSize < 0 ? "" : " of " + vocabSize));
            }
            float score = buf.getFloat();
            int len = buf.getInt();
            if (len < 0 || len > buf.remaining()) {
                throw new ModelFormatException(file, "token " + index + " has invalid length " + len);
            }
            byte[] piece = new byte[len];
            buf.get(piece);
            pieces.add(piece);
            scores.add(score);
        }
        int n = pieces.size();
        if (n <= L2C_BYTE_OFFSET + 255) {
            throw new ModelFormatException(file, "only " + n + " tokens; llama2.c vocabularies have BOS, EOS and 256 byte tokens");
        }
        Kind[] kinds = new Kind[n];
        for (int id = 0; id < n; id++) {
            String s = new String(pieces.get(id), StandardCharsets.ISO_8859_1);
            kinds[id] = id == L2C_BOS || id == L2C_EOS ? Kind.CONTROL
                    : SentencePieceBpe.parseBytePiece(s) >= 0 ? Kind.BYTE : Kind.NORMAL;
        }
        int[] byteIds = new int[256];
        for (int b = 0; b < 256; b++) byteIds[b] = b + L2C_BYTE_OFFSET;
        float[] scoreArray = new float[n];
        for (int i = 0; i < n; i++) scoreArray[i] = scores.get(i);
        // run.c ends generation at BOS as well: llama2.c models (TinyStories) were trained with BOS
        // between documents, so a BOS means the story is over.
        return new SentencePieceBpe(String.valueOf(file.getFileName()), pieces.toArray(byte[][]::new), scoreArray, kinds, byteIds,
                0, L2C_BOS, new int[] {L2C_EOS, L2C_BOS});
    }

    /** GGUF token_type values (llama.cpp llama_token_type). */
    private static final int TYPE_NORMAL = 1, TYPE_UNKNOWN = 2, TYPE_CONTROL = 3, TYPE_BYTE = 6;

    static SentencePieceBpe gguf(Path file, Map<String, Object> metadata) {
        Object model = metadata.get("tokenizer.ggml.model");
        if (model == null) throw new ModelFormatException(file, "no embedded tokenizer (tokenizer.ggml.model missing)");
        if (!"llama".equals(model)) {
            throw new ModelFormatException(file, "unsupported tokenizer model '" + model
                    + "' (only SentencePiece 'llama' vocabularies are supported)");
        }
        List<?> tokens = list(file, metadata, "tokenizer.ggml.tokens", true);
        List<?> scoreList = list(file, metadata, "tokenizer.ggml.scores", false);
        List<?> types = list(file, metadata, "tokenizer.ggml.token_type", false);
        int n = tokens.size();
        if (scoreList != null && scoreList.size() != n || types != null && types.size() != n) {
            throw new ModelFormatException(file, "tokenizer.ggml.tokens, scores and token_type have different lengths");
        }
        byte[][] pieces = new byte[n][];
        float[] scores = new float[n];
        Kind[] kinds = new Kind[n];
        int[] byteIds = new int[256];
        Arrays.fill(byteIds, -1);
        for (int id = 0; id < n; id++) {
            // SentencePiece marks word boundaries with U+2581; llama2.c-style pieces use a plain space.
            String piece = String.valueOf(tokens.get(id)).replace('\u2581', ' ');
            pieces[id] = piece.getBytes(StandardCharsets.UTF_8);
            scores[id] = scoreList == null ? 0f : number(file, "tokenizer.ggml.scores", scoreList.get(id)).floatValue();
            int type = types == null ? TYPE_NORMAL : number(file, "tokenizer.ggml.token_type", types.get(id)).intValue();
            int rawByte = SentencePieceBpe.parseBytePiece(piece);
            kinds[id] = switch (type) {
                case TYPE_CONTROL -> Kind.CONTROL;
                case TYPE_UNKNOWN -> Kind.UNKNOWN;
                case TYPE_BYTE -> rawByte >= 0 ? Kind.BYTE : Kind.NORMAL;
                default -> Kind.NORMAL; // normal, user-defined, unused
            };
            if (kinds[id] == Kind.BYTE && byteIds[rawByte] < 0) byteIds[rawByte] = id;
        }
        int unknownId = intOr(file, metadata, "tokenizer.ggml.unknown_token_id", -1);
        int bos = intOr(file, metadata, "tokenizer.ggml.bos_token_id", -1);
        int eos = intOr(file, metadata, "tokenizer.ggml.eos_token_id", -1);
        for (int id : new int[] {unknownId, bos, eos}) {
            if (id >= n) throw new ModelFormatException(file, "special token id " + id + " outside the " + n + "-token vocabulary");
        }
        return new SentencePieceBpe("the vocabulary of " + file.getFileName(), pieces, scores, kinds, byteIds, unknownId, bos,
                eos >= 0 ? new int[] {eos} : new int[0]);
    }

    private static List<?> list(Path file, Map<String, Object> metadata, String key, boolean required) {
        Object v = metadata.get(key);
        if (v == null && !required) return null;
        if (v instanceof List<?> l && !l.isEmpty()) return l;
        throw new ModelFormatException(file, "tokenizer metadata '" + key + "' is missing or not a non-empty array");
    }

    private static Number number(Path file, String key, Object v) {
        if (v instanceof Number num) return num;
        throw new ModelFormatException(file, "tokenizer metadata '" + key + "' holds a non-number: " + v);
    }

    private static int intOr(Path file, Map<String, Object> metadata, String key, int fallback) {
        Object v = metadata.get(key);
        if (v == null) return fallback;
        return Math.toIntExact(number(file, key, v).longValue());
    }
}
