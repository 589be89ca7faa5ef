package io.basalt.tokenizer;

import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.IntArrayList;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiktoken byte-level BPE (r50k_base, o200k_harmony): JTokkit encodes and decodes the ordinary
 * ranks; the special tokens are handled here, because JTokkit's {@code encode} refuses special-token
 * text and its registries know only the specials of the published base encodings.
 */
final class TiktokenTokenizer implements Tokenizer {
    private final String name;
    private final Encoding encoding;
    private final int ordinaryCount;        // ids [0, ordinaryCount) are BPE ranks
    private final String[] specialNames;    // id - ordinaryCount → text, for [ordinaryCount, vocabSize)
    private final Map<String, Integer> specialIds;
    private final Pattern specialPattern;   // any special's text; longest first so prefixes lose
    private final int bosId;
    private final int[] eosIds;

    /**
     * @param specials special-token text → id; every id in [ordinaryCount, vocabSize) needs a name,
     *                 and when two names share an id the one listed last is what decoding produces
     */
    TiktokenTokenizer(String name, Encoding encoding, int ordinaryCount, int vocabSize, Map<String, Integer> specials,
                      int bosId, int[] eosIds) {
        this.name = name;
        this.encoding = encoding;
        this.ordinaryCount = ordinaryCount;
        this.specialNames = new String[vocabSize - ordinaryCount];
        specials.forEach((text, id) -> specialNames[id - ordinaryCount] = text);
        for (int i = 0; i < specialNames.length; i++) {
            if (specialNames[i] == null) throw new IllegalArgumentException("no name for special id " + (ordinaryCount + i));
        }
        this.specialIds = Map.copyOf(specials);
        this.specialPattern = Pattern.compile(specials.keySet().stream()
                .sorted(Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder()))
                .map(Pattern::quote)
                .reduce((a, b) -> a + "|" + b).orElse("(?!)"));
        this.bosId = bosId;
        this.eosIds = eosIds.clone();
    }

    @Override public String name() { return name; }
    @Override public int vocabSize() { return ordinaryCount + specialNames.length; }
    @Override public int bosId() { return bosId; }
    @Override public int[] eosIds() { return eosIds.clone(); }

    @Override
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    /** Splits on special-token text (like tiktoken's allowed_special="all") and encodes the gaps. */
    @Override
    public int[] encodeWithSpecials(String text) {
        List<int[]> parts = new ArrayList<>();
        Matcher m = specialPattern.matcher(text);
        int start = 0;
        while (m.find()) {
            if (m.start() > start) parts.add(encode(text.substring(start, m.start())));
            parts.add(new int[] {specialIds.get(m.group())});
            start = m.end();
        }
        if (start < text.length()) parts.add(encode(text.substring(start)));
        return TokenIds.concat(parts);
    }

    /** Tiktoken tokens have no context rules: a token's bytes never depend on its predecessor. */
    @Override
    public byte[] decodeBytes(int previousId, int id) {
        DecodeSupport.checkId(this, id);
        if (id >= ordinaryCount) return specialNames[id - ordinaryCount].getBytes(StandardCharsets.UTF_8);
        IntArrayList one = new IntArrayList(1);
        one.add(id);
        return encoding.decodeBytes(one);
    }

    @Override
    public String decode(int[] ids) { return DecodeSupport.decodeByPieces(this, ids); }
}
