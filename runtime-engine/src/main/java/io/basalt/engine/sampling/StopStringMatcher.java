package io.basalt.engine.sampling;

import java.util.List;

/**
 * Stop strings on the detokenized stream: feed each text delta, get back the text that may be
 * emitted now and whether a stop string was hit. Text that could be the start of a stop string is
 * held back until it is clear (so a stop string split across tokens is never emitted, and nothing
 * after it is). On stop, the emitted text excludes the stop string. {@link #flush()} at the end
 * returns any held-back text. Not thread-safe; one per sequence.
 *
 * <p>Only the held-back text plus the new delta is searched: everything emitted earlier was shown
 * not to start any stop string, so no match can begin there. The work per delta is therefore
 * bounded by the stop strings' lengths, not by the length of the completion.
 */
public final class StopStringMatcher {
    private final String[] stops;
    private String held = "";
    private boolean stopped;
    private String matched;

    /** @param stops non-empty strings (as validated by {@code SamplingParams}); may be an empty list */
    public StopStringMatcher(List<String> stops) {
        this.stops = stops.toArray(String[]::new);
        for (String s : this.stops) {
            if (s.isEmpty()) throw new IllegalArgumentException("stop strings must not be empty");
        }
    }

    /**
     * Feeds the next piece of text. Once a stop string was hit, further calls return ("", true): the
     * completion is over and nothing after the stop string may be emitted.
     */
    public Result accept(String delta) {
        if (stopped) return new Result("", true);
        if (stops.length == 0) return new Result(delta, false);
        String text = held + delta;
        // Earliest match wins: that is where the visible completion ends. Among stops starting at
        // the same place the longest is reported (the emitted text is the same either way).
        int at = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (at < 0 || i < at || (i == at && s.length() > matched.length()))) {
                at = i;
                matched = s;
            }
        }
        if (at >= 0) {
            stopped = true;
            held = "";
            return new Result(text.substring(0, at), true);
        }
        int cut = text.length() - longestSuffixStartingAStop(text);
        // Never split a surrogate pair between what is emitted and what is held.
        if (cut > 0 && cut < text.length() && Character.isHighSurrogate(text.charAt(cut - 1))
                && Character.isLowSurrogate(text.charAt(cut))) {
            cut--;
        }
        held = text.substring(cut);
        return new Result(text.substring(0, cut), false);
    }

    /** The held-back text, at the end of the completion (e.g. on max_tokens or EOS); "" after a stop. */
    public String flush() {
        String out = held;
        held = "";
        return out;
    }

    /** The stop string that ended the completion (vLLM reports it as {@code stop_reason}), or null. */
    public String matchedStop() {
        return stopped ? matched : null;
    }

    /** Length of the longest suffix of {@code text} that is a proper prefix of some stop string. */
    private int longestSuffixStartingAStop(String text) {
        int best = 0;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, text.length()); len > best; len--) {
                if (text.regionMatches(text.length() - len, s, 0, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }

    /**
     * @param emit    text that can be streamed now ("" when everything is held back)
     * @param stopped whether a stop string was hit; {@code emit} then ends just before it
     */
    public record Result(String emit, boolean stopped) {}
}
