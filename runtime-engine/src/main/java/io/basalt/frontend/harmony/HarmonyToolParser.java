package io.basalt.frontend.harmony;

import io.basalt.frontend.tools.ToolCallEvent;
import io.basalt.frontend.tools.ToolCallIds;
import io.basalt.frontend.tools.ToolCallParser;
import io.basalt.tokenizer.IncrementalDecoder;
import io.basalt.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Streams a gpt-oss completion (the ids generated after a prompt ending with {@code <|start|>assistant})
 * into {@link ToolCallEvent}s, one token at a time, in the spirit of openai/harmony's StreamableParser but
 * lenient: it never throws, whatever the ids.
 *
 * <p>Per message, by its header (the ids up to {@code <|message|>}):
 * <ul>
 *   <li>a recipient {@code functions.NAME} of a declared function (" to=" after the role or after the channel,
 *       with {@code <|constrain|>json}, a plain {@code json} or no content type; any channel) is a call:
 *       {@link ToolCallEvent.ToolCallStart} at {@code <|message|>}, the content as generated in
 *       {@link ToolCallEvent.ToolCallArguments}, {@link ToolCallEvent.ToolCallEnd} at the stop token
 *       ({@code <|call|>}, or {@code <|end|>}/{@code <|return|>}). Each call gets the next index and a fresh id,
 *       so two calls of the same function stay two calls;</li>
 *   <li>any other recipient (built-ins {@code browser.*} and {@code python}, an undeclared function, a tool's own
 *       {@code to=assistant} reply the model made up) is <b>dropped</b>, and so is a message the
 *       model writes as another author (a role {@code user}, {@code system}, {@code developer} or a tool's name): it is an action for a tool this request
 *       did not declare, not text for the user, and never a function call (shared STRUCTURED.md §6.3 item 6);</li>
 *   <li>no recipient: the {@code analysis} channel is {@link ToolCallEvent.Reasoning}; {@code final},
 *       {@code commentary} (a preamble), an unknown or missing channel are {@link ToolCallEvent.Content}.</li>
 * </ul>
 * Recovery where harmony would fail: a stop token inside a header ends the message (a call header then gives
 * a call with empty arguments); {@code <|start|>} inside a header restarts it; {@code <|start|>} or
 * {@code <|channel|>} inside content ends the message and opens the next header; a message that begins without
 * {@code <|start|>} (text or {@code <|channel|>} after a stop token) is read as if {@code <|start|>assistant}
 * preceded it; other special ids and ids outside the vocabulary are skipped; a header that grows past
 * {@value #MAX_HEADER_TOKENS} ids, or that is still open at {@link #finish()} without channel or recipient,
 * is the model writing text without a header: its text is content. Content decodes incrementally (a UTF-8
 * character split across ids is emitted whole, once complete).
 */
public final class HarmonyToolParser implements ToolCallParser {
    static final int MAX_HEADER_TOKENS = 256;

    private final Harmony h;
    private final Tokenizer tokenizer;
    private final Set<String> functions;   // null: every functions.* recipient is a call
    private final ToolCallIds ids;

    private enum State { EXPECT_START, HEADER, CONTENT }

    private enum Kind { CONTENT, REASONING, CALL, DROPPED }

    private State state = State.HEADER;
    private boolean roleKnown = true;      // the prompt ended with <|start|>assistant
    private int[] header = new int[32];
    private int headerLength;
    private Kind kind;
    private IncrementalDecoder decoder;
    private int callIndex = -1, nextCallIndex;

    /**
     * @param functionNames the request's function names (calls to anything else are dropped), or null to treat
     *                      every {@code functions.NAME} recipient as a call
     */
    public HarmonyToolParser(Harmony harmony, Collection<String> functionNames, ToolCallIds ids) {
        this.h = Objects.requireNonNull(harmony, "harmony");
        this.tokenizer = harmony.tokenizer();
        this.functions = functionNames == null ? null : Set.copyOf(functionNames);
        this.ids = Objects.requireNonNull(ids, "ids");
    }

    /** How many calls this parser has opened so far. */
    public int callCount() { return nextCallIndex; }

    @Override
    public List<ToolCallEvent> accept(int id) {
        List<ToolCallEvent> out = new ArrayList<>(2);
        if (id < 0 || id >= tokenizer.vocabSize()) return out;
        switch (state) {
            case EXPECT_START -> {
                if (id == h.start) {
                    openHeader(false);
                } else if (id == h.channel) {
                    openHeader(true);
                    pushHeader(id);
                } else if (!isSpecial(id)) {          // text with no header at all
                    openContent(Kind.CONTENT, null, out);
                    text(id, out);
                }
            }
            case HEADER -> {
                if (id == h.message) {
                    Header parsed = Header.parse(headerText(), roleKnown);
                    openContent(classify(parsed), parsed, out);
                } else if (id == h.start) {
                    openHeader(false);
                } else if (isStop(id)) {
                    Header parsed = Header.parse(headerText(), roleKnown);
                    if (classify(parsed) == Kind.CALL) {
                        openContent(Kind.CALL, parsed, out);
                        closeContent(out);
                    } else if (parsed.isBare()) {
                        headerAsContent(out);
                        closeContent(out);
                    }
                    state = State.EXPECT_START;
                } else {
                    pushHeader(id);
                    if (headerLength > MAX_HEADER_TOKENS) headerAsContent(out);
                }
            }
            case CONTENT -> {
                if (isStop(id)) {
                    closeContent(out);
                    state = State.EXPECT_START;
                } else if (id == h.start) {
                    closeContent(out);
                    openHeader(false);
                } else if (id == h.channel) {
                    closeContent(out);
                    openHeader(true);
                    pushHeader(id);
                } else if (!isSpecial(id)) {
                    text(id, out);
                }
            }
        }
        return out;
    }

    @Override
    public List<ToolCallEvent> finish() {
        List<ToolCallEvent> out = new ArrayList<>(2);
        if (state == State.HEADER && headerLength > 0 && Header.parse(headerText(), roleKnown).isBare()) {
            headerAsContent(out);
        }
        if (state == State.CONTENT) closeContent(out);
        state = State.EXPECT_START;
        headerLength = 0;
        return out;
    }

    private boolean isStop(int id) { return id == h.end || id == h.call || id == h.returnId; }

    private boolean isSpecial(int id) { return id >= h.firstSpecial; }

    private void openHeader(boolean assistantImplied) {
        state = State.HEADER;
        roleKnown = assistantImplied;
        headerLength = 0;
    }

    private void pushHeader(int id) {
        if (headerLength == header.length) header = Arrays.copyOf(header, headerLength * 2);
        header[headerLength++] = id;
    }

    private String headerText() { return tokenizer.decode(Arrays.copyOf(header, headerLength)); }

    private Kind classify(Header parsed) {
        if (parsed.isOtherAuthor()) return Kind.DROPPED;
        if (parsed.recipient() != null) {
            String name = functionName(parsed.recipient());
            return name != null && (functions == null || functions.contains(name)) ? Kind.CALL : Kind.DROPPED;
        }
        return "analysis".equals(parsed.channel()) ? Kind.REASONING : Kind.CONTENT;
    }

    private static String functionName(String recipient) {
        if (!recipient.startsWith(HarmonyMessage.FUNCTIONS_PREFIX)) return null;
        String name = recipient.substring(HarmonyMessage.FUNCTIONS_PREFIX.length());
        return name.isEmpty() ? null : name;
    }

    private void openContent(Kind k, Header parsed, List<ToolCallEvent> out) {
        state = State.CONTENT;
        kind = k;
        decoder = new IncrementalDecoder(tokenizer, -1);
        if (k == Kind.CALL) {
            callIndex = nextCallIndex++;
            out.add(new ToolCallEvent.ToolCallStart(callIndex, ids.next(), functionName(parsed.recipient())));
        }
    }

    /** The header was text after all: its ordinary ids become the start of a content message. */
    private void headerAsContent(List<ToolCallEvent> out) {
        int[] held = Arrays.copyOf(header, headerLength);
        headerLength = 0;
        openContent(Kind.CONTENT, null, out);
        for (int id : held) if (!isSpecial(id)) text(id, out);
    }

    private void text(int id, List<ToolCallEvent> out) { emit(decoder.next(id), out); }

    private void closeContent(List<ToolCallEvent> out) {
        emit(decoder.flush(), out);
        if (kind == Kind.CALL) out.add(new ToolCallEvent.ToolCallEnd(callIndex));
        kind = null;
        decoder = null;
    }

    private void emit(String text, List<ToolCallEvent> out) {
        if (text.isEmpty()) return;
        switch (kind) {
            case CONTENT -> out.add(new ToolCallEvent.Content(text));
            case REASONING -> out.add(new ToolCallEvent.Reasoning(text));
            case CALL -> out.add(new ToolCallEvent.ToolCallArguments(callIndex, text));
            case DROPPED -> { }
        }
    }

    /**
     * A decoded header, read leniently: the channel follows {@code <|channel|>} up to whitespace or '&lt;'; the
     * rest splits on whitespace (a space is put before {@code <|constrain|>}); the role is the first word unless
     * the prompt gave it; the recipient is the first {@code to=} word, else a word starting {@code functions.}
     * (harmony's bare recipient); the content type is the last other word. Unlike harmony, leftover words are
     * not an error, and a lone word that is not {@code functions.…} is a content type, not a recipient
     * ({@code <|channel|>final json}).
     */
    record Header(String role, String channel, String recipient, String contentType) {
        /** No channel and no recipient: not a header (text the model wrote without one). */
        boolean isBare() { return channel == null && recipient == null && !isOtherAuthor(); }

        /** A message the model wrote as someone else: a user, system or developer turn, or a tool's reply. */
        boolean isOtherAuthor() {
            return role != null && (role.equals("user") || role.equals("system") || role.equals("developer") || role.contains("."));
        }

        static Header parse(String text, boolean roleKnown) {
            String channel = null;
            int marker = text.indexOf("<|channel|>");
            if (marker >= 0) {
                int begin = marker + "<|channel|>".length(), stop = begin;
                while (stop < text.length() && !Character.isWhitespace(text.charAt(stop)) && text.charAt(stop) != '<') stop++;
                if (stop > begin) channel = text.substring(begin, stop);
                text = text.substring(0, marker) + " " + text.substring(stop);
            }
            text = text.replace("<|constrain|>", " <|constrain|>").strip();
            List<String> parts = new ArrayList<>(text.isEmpty() ? List.of() : Arrays.asList(text.split("\\s+")));
            String role = roleKnown ? "assistant" : null;
            if (!parts.isEmpty()) {
                if (roleKnown) {
                    if (parts.getFirst().equals("assistant")) parts.removeFirst();
                } else if (!parts.getFirst().startsWith("to=") && !parts.getFirst().startsWith("<|")) {
                    role = parts.removeFirst();
                }
            }
            String recipient = null;
            int at = -1;
            for (int i = 0; i < parts.size() && at < 0; i++) if (parts.get(i).startsWith("to=")) at = i;
            if (at >= 0) {
                recipient = parts.remove(at).substring(3);
            } else {
                for (int i = 0; i < parts.size() && at < 0; i++) if (parts.get(i).startsWith(HarmonyMessage.FUNCTIONS_PREFIX)) at = i;
                if (at >= 0) recipient = parts.remove(at);
            }
            String contentType = parts.isEmpty() ? null : parts.getLast();
            return new Header(role, channel, recipient, contentType);
        }
    }
}
