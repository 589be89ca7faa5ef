package io.basalt.server.openai;

import io.basalt.tokenizer.IncrementalDecoder;
import io.basalt.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * An incremental harmony parser over token ids (never over text: SERVING.md §5.1), for a completion
 * whose prompt ended with {@code <|start|>assistant}. Lenient where harmony's strict parser throws —
 * generated output must never fail a request:
 * <ul>
 *   <li>a header runs to {@code <|message|>}; its channel is the word after {@code <|channel|>}, and a
 *       recipient may sit in the role part or after the channel (both are accepted and ignored);</li>
 *   <li>content runs to {@code <|end|>}, {@code <|return|>}, {@code <|call|>} (or the end of the output);
 *       a {@code <|start|>} inside content also ends it and opens a new header;</li>
 *   <li>between messages, anything but {@code <|start|>} (e.g. a stray {@code <|constrain|>} or
 *       {@code <|call|>}, seen in vLLM#22386) is skipped.</li>
 * </ul>
 * Content on the analysis channel is reasoning; content on any other channel (final, commentary) is content.
 */
final class HarmonyOutputParser implements ChatOutputParser {
    private static final int MAX_HEADER_TOKENS = 128;

    private enum State { HEADER, CONTENT, BETWEEN }

    private final Tokenizer tokenizer;
    private final int start, end, message, returnId, call;
    private State state = State.HEADER;
    private int[] header = new int[16];
    private int headerLength;
    private boolean analysis;
    private IncrementalDecoder decoder;
    private int reasoningTokens;

    HarmonyOutputParser(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.start = special(tokenizer, "<|start|>");
        this.end = special(tokenizer, "<|end|>");
        this.message = special(tokenizer, "<|message|>");
        this.returnId = special(tokenizer, "<|return|>");
        this.call = special(tokenizer, "<|call|>");
    }

    private static int special(Tokenizer t, String text) {
        int[] ids = t.encodeWithSpecials(text);
        if (ids.length != 1) throw new IllegalArgumentException("the tokenizer has no single token for " + text);
        return ids[0];
    }

    @Override
    public Delta accept(int[] tokenIds, String text) {
        StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
        for (int t : tokenIds) feed(t, reasoning, content);
        return reasoning.isEmpty() && content.isEmpty() ? Delta.EMPTY : new Delta(reasoning.toString(), content.toString());
    }

    private void feed(int t, StringBuilder reasoning, StringBuilder content) {
        switch (state) {
            case BETWEEN -> {
                if (t == start) openHeader();
            }
            case HEADER -> {
                if (t == message) {
                    analysis = "analysis".equals(channel(tokenizer.decode(Arrays.copyOf(header, headerLength))));
                    decoder = new IncrementalDecoder(tokenizer, t);
                    state = State.CONTENT;
                } else if (t == start) {
                    openHeader();
                } else if (t == end || t == returnId || t == call) {
                    state = State.BETWEEN;           // a header without content: nothing to show
                } else if (headerLength < MAX_HEADER_TOKENS) {
                    if (headerLength == header.length) header = Arrays.copyOf(header, headerLength * 2);
                    header[headerLength++] = t;
                }
            }
            case CONTENT -> {
                if (t == end || t == returnId || t == call || t == start) {
                    (analysis ? reasoning : content).append(decoder.flush());
                    if (t == start) openHeader();
                    else state = State.BETWEEN;
                } else {
                    (analysis ? reasoning : content).append(decoder.next(t));
                    if (analysis) reasoningTokens++;
                }
            }
        }
    }

    private void openHeader() {
        state = State.HEADER;
        headerLength = 0;
    }

    /** The word after "&lt;|channel|&gt;" in a decoded header, or null. */
    static String channel(String header) {
        int marker = header.indexOf("<|channel|>");
        if (marker < 0) return null;
        int begin = marker + "<|channel|>".length(), stop = begin;
        while (stop < header.length() && !Character.isWhitespace(header.charAt(stop)) && header.charAt(stop) != '<') stop++;
        return header.substring(begin, stop);
    }

    @Override
    public Delta finish() {
        if (state != State.CONTENT) return Delta.EMPTY;
        state = State.BETWEEN;
        String tail = decoder.flush();
        if (tail.isEmpty()) return Delta.EMPTY;
        return analysis ? new Delta(tail, "") : new Delta("", tail);
    }

    @Override
    public int reasoningTokens() { return reasoningTokens; }
}
