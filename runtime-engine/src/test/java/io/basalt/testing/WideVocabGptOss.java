package io.basalt.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * gpt-oss-tiny-random (hf layout) with its vocabulary widened from 1,000 ids to o200k_harmony's 201,088, written at
 * test time into a folder: every tensor is the fixture's, byte for byte, except {@code model.embed_tokens.weight} and
 * {@code lm_head.weight}, whose first 1,000 rows are the fixture's and whose new rows are seeded random bf16 values of
 * the same scale. The fixture itself cannot take a harmony prompt (its ids stop at 999, harmony's specials sit above
 * 200,000), and a checkpoint with the full vocabulary is ~52 MB, over the test-data file limit; this one is built in
 * about a second and deleted with its temporary folder.
 */
public final class WideVocabGptOss {
    public static final int VOCAB = 201_088;
    private static final ObjectMapper JSON = new ObjectMapper();

    private WideVocabGptOss() {}

    /** Writes config.json and model.safetensors into {@code dir} (created if absent); returns {@code dir}. */
    public static Path write(Path dir) throws IOException {
        Path src = Shared.model("gpt-oss-tiny-random/hf");
        Files.createDirectories(dir);
        ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        int oldVocab = config.get("vocab_size").asInt();
        int hidden = config.get("hidden_size").asInt();
        config.put("vocab_size", VOCAB);
        config.put("eos_token_id", 200_002);   // <|return|>, as the real checkpoints declare (the fixture's 2 is a plain id)
        config.put("pad_token_id", 199_999);
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);

        byte[] file = Files.readAllBytes(src.resolve("model.safetensors"));
        ByteBuffer bb = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) bb.getLong(0);
        ObjectNode header = (ObjectNode) JSON.readTree(new String(file, 8, headerLength, StandardCharsets.UTF_8));
        int dataStart = 8 + headerLength;

        record Tensor(String name, String dtype, ArrayNode shape, byte[] bytes) { }
        List<Tensor> tensors = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(20261207L);
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            JsonNode t = e.getValue();
            long begin = t.get("data_offsets").get(0).asLong(), end = t.get("data_offsets").get(1).asLong();
            byte[] bytes = java.util.Arrays.copyOfRange(file, (int) (dataStart + begin), (int) (dataStart + end));
            ArrayNode shape = ((ArrayNode) t.get("shape")).deepCopy();
            boolean vocabRows = (e.getKey().equals("model.embed_tokens.weight") || e.getKey().equals("lm_head.weight"))
                    && shape.get(0).asInt() == oldVocab;
            if (vocabRows) {
                if (!t.get("dtype").asText().equals("BF16") || shape.get(1).asInt() != hidden) {
                    throw new IllegalStateException(e.getKey() + ": expected BF16 [" + oldVocab + ", " + hidden + "]");
                }
                bytes = widen(bytes, oldVocab, hidden, random);
                shape.set(0, VOCAB);
            }
            tensors.add(new Tensor(e.getKey(), t.get("dtype").asText(), shape, bytes));
        }
        ObjectNode out = JSON.createObjectNode();
        if (header.has("__metadata__")) out.set("__metadata__", header.get("__metadata__"));
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode o = out.putObject(t.name());
            o.put("dtype", t.dtype());
            o.set("shape", t.shape());
            o.putArray("data_offsets").add(offset).add(offset + t.bytes().length);
            offset += t.bytes().length;
        }
        byte[] h = JSON.writeValueAsBytes(out);
        int pad = (8 - h.length % 8) % 8;   // safetensors aligns the data start to 8 bytes with spaces
        try (OutputStream os = Files.newOutputStream(dir.resolve("model.safetensors"))) {
            os.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length + pad).array());
            os.write(h);
            for (int i = 0; i < pad; i++) os.write(' ');
            for (Tensor t : tensors) os.write(t.bytes());
        }
        return dir;
    }

    /** The old rows, then new rows of random bf16 with the old rows' standard deviation. */
    private static byte[] widen(byte[] old, int oldRows, int cols, SplittableRandom random) {
        ByteBuffer in = ByteBuffer.wrap(old).order(ByteOrder.LITTLE_ENDIAN);
        double sum = 0, sq = 0;
        int n = oldRows * cols;
        for (int i = 0; i < n; i++) {
            float v = Float.intBitsToFloat((in.getShort(2 * i) & 0xFFFF) << 16);
            sum += v;
            sq += (double) v * v;
        }
        double std = Math.sqrt(Math.max(1e-12, sq / n - (sum / n) * (sum / n)));
        ByteBuffer out = ByteBuffer.allocate(VOCAB * cols * 2).order(ByteOrder.LITTLE_ENDIAN);
        out.put(old);
        for (long i = n; i < (long) VOCAB * cols; i++) {
            float v = (float) (random.nextGaussian() * std);
            out.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
        }
        return out.array();
    }
}
