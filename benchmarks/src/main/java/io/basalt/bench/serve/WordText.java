package io.basalt.bench.serve;

import java.util.SplittableRandom;

/**
 * Random prompts when neither a tokenizer nor the server's /tokenize is at hand: common English
 * words, as many as the server's tokens per word (measured from its usage counts) say the asked
 * length needs. Lengths are therefore approximate; the prompts' real lengths come from each
 * response's usage.
 */
public final class WordText implements TextSource {
    /** Ordinary words, so that tokenizers split them about as they split real prompts. */
    static final String[] WORDS = ("the of and to in is was for that with as on by at from his her they this which had are but not have were "
            + "one all their there been has when who will more would can time about into after first also new some could "
            + "two these other than then them made over did many only people years year world state city school house "
            + "water river story little small large great long old young good light night morning evening garden window "
            + "table door road village forest mountain ocean island summer winter spring autumn friend family mother "
            + "father sister brother child teacher doctor farmer king queen dog cat bird horse fish tree flower stone "
            + "paper music picture letter number question answer reason problem system market program history science "
            + "language country government company power money business service between through during before under around "
            + "against without within along across behind beyond toward quickly slowly quietly happily often always never "
            + "sometimes together however because although while where walk run read write speak listen learn teach build "
            + "carry bring follow remember believe understand happy bright dark warm cold green blue red yellow white "
            + "black simple strong gentle quiet early late").split(" ");

    private final double tokensPerWord;

    public WordText(double tokensPerWord) {
        if (!(tokensPerWord > 0) || Double.isInfinite(tokensPerWord)) throw new IllegalArgumentException("tokens per word must be > 0");
        this.tokensPerWord = tokensPerWord;
    }

    public double tokensPerWord() { return tokensPerWord; }

    @Override
    public Text text(SplittableRandom random, int tokens) {
        return new Text(tokens <= 0 ? "" : words(random, Math.max(1, (int) Math.round(tokens / tokensPerWord))), -1);
    }

    @Override
    public int count(String text) { return -1; }

    /** n random words (the calibration texts). */
    static String words(SplittableRandom random, int n) {
        StringBuilder b = new StringBuilder(n * 7);
        for (int i = 0; i < n; i++) {
            if (i > 0) b.append(' ');
            b.append(WORDS[random.nextInt(WORDS.length)]);
        }
        return b.toString();
    }
}
