package io.basalt.bench.serve;

import io.basalt.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Random prompts of an exact length in tokens, built from the tokenizer's own vocabulary (as vLLM's
 * random dataset does): random ids are decoded to text, and since the text re-encodes to a slightly
 * different sequence (merges across piece boundaries, a dummy-prefix space), it is re-encoded and
 * trimmed or topped up until it encodes to the asked length. The tokenizer is a local one, or the
 * server's /tokenize and /detokenize ({@link ServerTokenizer}); either may be used from several threads.
 */
public final class RandomText implements TextSource {
    private static final int ROUNDS = 20;

    /** Text ↔ ids, without special tokens (no BOS). */
    public interface Codec {
        int[] encode(String text);

        String decode(int[] ids);
    }

    private final Codec codec;
    private final int[] pieces; // ids that decode on their own to clean, printable text

    public RandomText(Tokenizer tokenizer) {
        this(new Codec() {
            @Override
            public int[] encode(String text) { return tokenizer.encode(text); }

            @Override
            public String decode(int[] ids) { return tokenizer.decode(ids); }
        }, printablePieces(tokenizer));
    }

    /** @param pieces the ids random text is drawn from */
    public RandomText(Codec codec, int[] pieces) {
        if (pieces.length == 0) throw new IllegalArgumentException("the tokenizer has no printable tokens to build prompts from");
        this.codec = codec;
        this.pieces = pieces.clone();
    }

    private static int[] printablePieces(Tokenizer tokenizer) {
        int[] usable = new int[tokenizer.vocabSize()];
        int n = 0;
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            if (id == tokenizer.bosId() || contains(tokenizer.eosIds(), id)) continue;
            String s;
            try {
                s = tokenizer.decode(new int[] {id});
            } catch (RuntimeException e) {
                continue; // an id the tokenizer cannot decode alone
            }
            if (!s.isBlank() && s.chars().noneMatch(c -> c == 0xFFFD || (Character.isISOControl(c) && c != ' '))) usable[n++] = id;
        }
        return Arrays.copyOf(usable, n);
    }

    @Override
    public int count(String text) { return text.isEmpty() ? 0 : codec.encode(text).length; }

    /** A text that encodes to {@code tokens} tokens (the closest found within a few rounds when not exact), and its count. */
    @Override
    public Text text(SplittableRandom random, int tokens) {
        if (tokens <= 0) return new Text("", 0);
        int[] ids = randomIds(random, tokens);
        String best = "";
        int bestMiss = Integer.MAX_VALUE, bestCount = 0;
        for (int round = 0; round < ROUNDS; round++) {
            // No leading space: SentencePiece encoders add their own, which would grow by one every round.
            String text = codec.decode(ids).stripLeading();
            int[] again = codec.encode(text);
            int miss = Math.abs(again.length - tokens);
            if (miss < bestMiss) { best = text; bestMiss = miss; bestCount = again.length; }
            if (miss == 0) break;
            if (again.length > tokens) {
                ids = Arrays.copyOf(again, tokens);
            } else {
                int[] more = randomIds(random, tokens - again.length);
                ids = Arrays.copyOf(again, tokens);
                System.arraycopy(more, 0, ids, again.length, more.length);
            }
        }
        return new Text(best, bestCount);
    }

    private int[] randomIds(SplittableRandom random, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = pieces[random.nextInt(pieces.length)];
        return ids;
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) if (x == v) return true;
        return false;
    }
}
