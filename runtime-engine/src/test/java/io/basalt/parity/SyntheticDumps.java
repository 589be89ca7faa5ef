package io.basalt.parity;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Small dumps with chosen numbers, for tests with known answers. */
final class SyntheticDumps {
    private SyntheticDumps() {}

    /** One prompt: tokens [T] (the first promptLength are the prompt), logits [T][V], hidden [L][T][H] or null. */
    static Path write(Path file, String precision, String logitsMode, int[] tokens, int promptLength, float[][] logits, float[][][] hidden) {
        return write(file, "sha256:test", precision, logitsMode, tokens, promptLength, logits, hidden);
    }

    static Path write(Path file, String modelHash, String precision, String logitsMode, int[] tokens, int promptLength, float[][] logits,
                      float[][][] hidden) {
        DumpMetadata meta = metadata(modelHash, precision, logitsMode, logits[0].length, hidden,
                List.of(new DumpMetadata.Prompt(null, promptLength, tokens.length)));
        try (DumpWriter w = DumpWriter.create(file, meta)) {
            w.tokens(0, tokens);
            for (int pos = 0; pos < tokens.length; pos++) w.logits(0, pos, logits[pos]);
            if (hidden != null) {
                for (int l = 0; l < hidden.length; l++) for (int pos = 0; pos < tokens.length; pos++) w.hidden(0, l, pos, hidden[l][pos]);
            }
            w.commit();
        }
        return file;
    }

    static DumpMetadata metadata(String precision, String logitsMode, int vocab, float[][][] hidden, List<DumpMetadata.Prompt> prompts) {
        return metadata("sha256:test", precision, logitsMode, vocab, hidden, prompts);
    }

    static DumpMetadata metadata(String modelHash, String precision, String logitsMode, int vocab, float[][][] hidden,
                                 List<DumpMetadata.Prompt> prompts) {
        return new DumpMetadata(DumpMetadata.VERSION, "run", "model", modelHash, ModelFingerprint.METHOD, "test", precision, "none", precision,
                logitsMode, vocab, hidden == null ? 0 : hidden.length, hidden == null ? 0 : hidden[0][0].length,
                Map.of("cpu", "test cpu", "os", "test", "arch", "x"), Map.of("basalt", "test"), "2026-01-01T00:00:00Z", "synthetic", prompts);
    }

    /** Rows of the given values, one per position. */
    static float[][] rows(float[]... rows) { return rows; }
}
