package io.basalt.frontend.harmony;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits completion ids into harmony messages, following openai/harmony's StreamableParser (strict
 * mode): a header runs until {@code <|message|>}; content runs until {@code <|end|>},
 * {@code <|return|>}, {@code <|call|>} or the end of the input; the next message must open with
 * {@code <|start|>}. Malformed input is an {@link IllegalArgumentException} naming the position.
 */
final class HarmonyParser {
    private final Harmony h;

    HarmonyParser(Harmony harmony) { this.h = harmony; }

    private enum State { EXPECT_START, HEADER, CONTENT }

    /** @param firstRole the role of a first message whose {@code <|start|>role} was part of the prompt, or null */
    List<HarmonyMessage> parse(int[] tokens, String firstRole) {
        List<HarmonyMessage> out = new ArrayList<>();
        State state = firstRole == null ? State.EXPECT_START : State.HEADER;
        String role = firstRole;
        Header header = null;
        int from = 0; // where the current header or content began
        for (int i = 0; i < tokens.length; i++) {
            int t = tokens[i];
            switch (state) {
                case EXPECT_START -> {
                    if (t != h.start) throw new IllegalArgumentException("token " + t + " at " + i + ": expected <|start|>");
                    state = State.HEADER;
                    role = null;
                    from = i + 1;
                }
                case HEADER -> {
                    if (t == h.message) {
                        header = parseHeader(h.tokenizer().decode(Arrays.copyOfRange(tokens, from, i)), role, i);
                        state = State.CONTENT;
                        from = i + 1;
                    }
                }
                case CONTENT -> {
                    if (t == h.end || t == h.returnId || t == h.call) {
                        out.add(header.message(h.tokenizer().decode(Arrays.copyOfRange(tokens, from, i))));
                        state = State.EXPECT_START;
                    }
                }
            }
        }
        if (state == State.HEADER) throw new IllegalArgumentException("input ended inside a message header");
        if (state == State.CONTENT) out.add(header.message(h.tokenizer().decode(Arrays.copyOfRange(tokens, from, tokens.length))));
        return out;
    }

    private record Header(String role, String channel, String recipient, String contentType) {
        HarmonyMessage message(String content) {
            return new HarmonyMessage(role, channel, recipient, contentType, content);
        }
    }

    /**
     * A decoded header such as "assistant to=functions.f&lt;|channel|&gt;commentary &lt;|constrain|&gt;json":
     * the channel follows the channel marker up to whitespace or '&lt;'; then the role (unless known), then
     * an optional recipient ("to=…") and an optional content type, whitespace-separated.
     */
    private static Header parseHeader(String text, String knownRole, int position) {
        String channel = null;
        int marker = text.indexOf("<|channel|>");
        if (marker >= 0) {
            int begin = marker + "<|channel|>".length(), stop = begin;
            while (stop < text.length() && !Character.isWhitespace(text.charAt(stop)) && text.charAt(stop) != '<') stop++;
            if (stop == begin) throw new IllegalArgumentException("empty channel in the header ending at " + position);
            channel = text.substring(begin, stop);
            text = text.substring(0, marker) + text.substring(stop);
        }
        text = text.replace("<|constrain|>", " <|constrain|>").trim();
        List<String> parts = new ArrayList<>(text.isEmpty() ? List.of() : List.of(text.split("\\s+")));
        String role = knownRole;
        if (role == null) {
            if (parts.isEmpty()) throw new IllegalArgumentException("no role in the header ending at " + position);
            role = parts.getFirst();
        }
        if (!parts.isEmpty() && parts.getFirst().equals(role)) parts.removeFirst();
        String recipient = null, contentType = null;
        if (!parts.isEmpty()) {
            String last = parts.removeLast();
            if (last.startsWith("to=")) {
                recipient = last.substring(3);
            } else if (parts.isEmpty() && !last.startsWith("<|constrain|>")) {
                recipient = last;           // a lone word is a recipient, as in harmony
            } else {
                contentType = last;
                if (!parts.isEmpty()) {
                    String r = parts.removeLast();
                    recipient = r.startsWith("to=") ? r.substring(3) : r;
                }
            }
        }
        if (!parts.isEmpty()) throw new IllegalArgumentException("unexpected header text " + parts + " before " + position);
        if (role.equals("assistant") && channel == null) {
            throw new IllegalArgumentException("assistant message without a channel at " + position);
        }
        return new Header(role, channel, recipient, contentType);
    }
}
