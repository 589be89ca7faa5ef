package io.basalt.frontend.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The output of {@code tool_choice} required ({@link ToolCallSchemas#required}): a JSON array of
 * {@code {"name": NAME, "parameters": ARGS}} objects, read one character at a time so that any split of the text
 * gives the same calls. A call opens once its name string is complete; the {@code parameters} value's text follows
 * as arguments fragments exactly as generated (held until the name is known when it comes first); the call ends
 * when its object closes. Keys in either order, other keys skipped, JSON whitespace anywhere.
 *
 * <p>Lenient, never throws: an element without a declared name is content (its raw text); text that is not this
 * shape degrades to content from there on (an open call is closed first); at finish an open call is closed
 * (truncation is the engine's finish_reason to report).
 */
public final class RequiredCallsParser extends TextToolCallParser {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private enum Mode { BEFORE_ARRAY, ARRAY, AFTER_ELEMENT, OBJECT, KEY, COLON, VALUE_START, VALUE, AFTER_VALUE, AFTER_ARRAY, DEGRADED }
    private enum Target { NAME, PARAMETERS, OTHER }
    private enum Kind { CONTAINER, STRING, SCALAR }

    private final Set<String> names;
    private final ToolCallIds ids;
    private Mode mode = Mode.BEFORE_ARRAY;
    private int calls;

    // the current element
    private boolean inElement;
    private String name;                    // declared name, once read
    private boolean parametersSeen;
    private int callIndex = -1;             // its open call, or -1
    private final StringBuilder held = new StringBuilder();        // raw text no event stands for yet
    private final StringBuilder parameters = new StringBuilder();  // the parameters text while the name is unknown
    private final StringBuilder key = new StringBuilder();

    // the value being scanned
    private Target target;
    private Kind kind;
    private int depth;
    private boolean inString, escaped;

    // events of the current acceptText
    private final StringBuilder pendingArguments = new StringBuilder();
    private final StringBuilder pendingContent = new StringBuilder();
    private List<ToolCallEvent> out;

    /** @param names the declared functions: an element naming another is content, not a call */
    public RequiredCallsParser(Set<String> names, ToolCallIds ids) {
        this.names = Set.copyOf(names);
        this.ids = Objects.requireNonNull(ids, "ids");
    }

    @Override
    public List<ToolCallEvent> acceptText(String text) {
        out = new ArrayList<>();
        if (text == null || text.isEmpty()) return flush();
        if (mode == Mode.DEGRADED) pendingContent.append(text);
        else for (int i = 0; i < text.length() && mode != Mode.DEGRADED; i++) step(text, i);   // degrade() takes the rest
        return flush();
    }

    private List<ToolCallEvent> flush() {
        flushArguments();
        if (!pendingContent.isEmpty()) {
            out.add(new ToolCallEvent.Content(pendingContent.toString()));
            pendingContent.setLength(0);
        }
        List<ToolCallEvent> done = out;
        out = null;
        return done;
    }

    private void flushArguments() {
        if (!pendingArguments.isEmpty()) {
            out.add(new ToolCallEvent.ToolCallArguments(callIndex, pendingArguments.toString()));
            pendingArguments.setLength(0);
        }
    }

    private static boolean ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

    /** Reads text[i]; may switch to DEGRADED, which takes the rest of text as content. */
    private void step(String text, int i) {
        char c = text.charAt(i);
        switch (mode) {
            case BEFORE_ARRAY -> {
                if (ws(c)) held.append(c);
                else if (c == '[') { held.setLength(0); mode = Mode.ARRAY; }
                else degrade(text, i);
            }
            case ARRAY -> {
                if (ws(c)) return;
                if (c == '{') openElement();
                else if (c == ']') mode = Mode.AFTER_ARRAY;
                else degrade(text, i);
            }
            case AFTER_ELEMENT -> {
                if (ws(c)) return;
                if (c == ',') mode = Mode.ARRAY;
                else if (c == ']') mode = Mode.AFTER_ARRAY;
                else degrade(text, i);
            }
            case OBJECT -> {
                if (ws(c)) { raw(c); return; }
                if (c == '"') { raw(c); key.setLength(0); inString = true; escaped = false; mode = Mode.KEY; }
                else if (c == '}') closeElement(c);
                else degrade(text, i);
            }
            case KEY -> {
                raw(c);
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') { inString = false; mode = Mode.COLON; return; }
                key.append(c);
            }
            case COLON -> {
                if (ws(c)) { raw(c); return; }
                if (c != ':') { degrade(text, i); return; }
                raw(c);
                String k = decode(key.toString());
                if ("name".equals(k) && name == null && callIndex < 0) target = Target.NAME;
                else if ("parameters".equals(k) && !parametersSeen) target = Target.PARAMETERS;
                else target = Target.OTHER;
                key.setLength(0);
                mode = Mode.VALUE_START;
            }
            case VALUE_START -> {
                if (ws(c)) { raw(c); return; }
                if (c == '{' || c == '[') { kind = Kind.CONTAINER; depth = 1; inString = false; }
                else if (c == '"') { kind = Kind.STRING; inString = true; }
                else if (c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n') kind = Kind.SCALAR;
                else { degrade(text, i); return; }
                escaped = false;
                if (target == Target.NAME && kind != Kind.STRING) target = Target.OTHER;   // no usable name: content at close
                if (target == Target.PARAMETERS) parametersSeen = true;
                mode = Mode.VALUE;
                valueChar(c);
                if (kind == Kind.STRING) key.setLength(0);
            }
            case VALUE -> {
                if (kind == Kind.SCALAR && (c == ',' || c == '}' || c == ']' || ws(c))) {
                    mode = Mode.AFTER_VALUE;
                    step(text, i);
                    return;
                }
                valueChar(c);
                boolean done = switch (kind) {
                    case CONTAINER -> {
                        if (inString) {
                            if (escaped) escaped = false;
                            else if (c == '\\') escaped = true;
                            else if (c == '"') inString = false;
                        } else if (c == '"') inString = true;
                        else if (c == '{' || c == '[') depth++;
                        else if (c == '}' || c == ']') depth--;
                        yield depth == 0;
                    }
                    case STRING -> {
                        if (escaped) escaped = false;
                        else if (c == '\\') escaped = true;
                        else if (c == '"') yield true;
                        if (target == Target.NAME) key.append(c);     // the raw body, decoded when the string closes
                        yield false;
                    }
                    case SCALAR -> false;
                };
                if (done) {
                    mode = Mode.AFTER_VALUE;
                    if (target == Target.NAME) nameRead(decode(key.toString()));
                }
            }
            case AFTER_VALUE -> {
                if (ws(c)) { raw(c); return; }
                if (c == ',') { raw(c); mode = Mode.OBJECT; }
                else if (c == '}') closeElement(c);
                else degrade(text, i);
            }
            case AFTER_ARRAY -> {
                if (!ws(c)) degrade(text, i);
            }
            case DEGRADED -> pendingContent.append(c);   // not reached: acceptText appends whole texts once degraded
        }
    }

    /** A character of the value being scanned: parameters go to the call (or wait for its name); all else is held. */
    private void valueChar(char c) {
        if (target != Target.PARAMETERS) {
            raw(c);
            return;
        }
        if (callIndex >= 0) {
            pendingArguments.append(c);
        } else {
            parameters.append(c);
            held.append(c);
        }
    }

    private void raw(char c) { if (callIndex < 0) held.append(c); }

    private void openElement() {
        inElement = true;
        name = null;
        parametersSeen = false;
        callIndex = -1;
        held.setLength(0);
        held.append('{');
        parameters.setLength(0);
        mode = Mode.OBJECT;
    }

    private void nameRead(String n) {
        if (n == null || !names.contains(n)) return;     // not a declared function: the element stays content
        name = n;
        callIndex = calls++;
        out.add(new ToolCallEvent.ToolCallStart(callIndex, ids.next(), n));
        if (!parameters.isEmpty()) out.add(new ToolCallEvent.ToolCallArguments(callIndex, parameters.toString()));
        parameters.setLength(0);
        held.setLength(0);
    }

    private void closeElement(char c) {
        if (callIndex >= 0) {
            flushArguments();
            out.add(new ToolCallEvent.ToolCallEnd(callIndex));
        } else {
            held.append(c);
            pendingContent.append(held);
            flushContentInOrder();
        }
        inElement = false;
        callIndex = -1;
        held.setLength(0);
        parameters.setLength(0);
        mode = Mode.AFTER_ELEMENT;
    }

    /** Content must not be reordered after later call events: emit it now. */
    private void flushContentInOrder() {
        flushArguments();
        if (!pendingContent.isEmpty()) {
            out.add(new ToolCallEvent.Content(pendingContent.toString()));
            pendingContent.setLength(0);
        }
    }

    /** Not the shape tool_choice required produces: close an open call, and everything from here is content. */
    private void degrade(String text, int i) {
        flushArguments();
        if (callIndex >= 0) {
            out.add(new ToolCallEvent.ToolCallEnd(callIndex));
            callIndex = -1;
        } else {
            pendingContent.append(held);
        }
        held.setLength(0);
        parameters.setLength(0);
        inElement = false;
        mode = Mode.DEGRADED;
        pendingContent.append(text, i, text.length());
    }

    /** A JSON string's characters (between the quotes) decoded; null when they are not valid JSON string text. */
    private static String decode(String body) {
        if (body.indexOf('\\') < 0) return body;
        try {
            return MAPPER.readValue("\"" + body + "\"", String.class);
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public int callCount() { return calls; }

    @Override
    public List<ToolCallEvent> finish() {
        out = new ArrayList<>();
        if (callIndex >= 0) {
            flushArguments();
            out.add(new ToolCallEvent.ToolCallEnd(callIndex));
            callIndex = -1;
        } else if (inElement) {
            pendingContent.append(held);          // a cut element that never named a function
        }
        inElement = false;
        held.setLength(0);
        parameters.setLength(0);
        if (mode != Mode.DEGRADED) mode = Mode.AFTER_ARRAY;
        return flush();
    }
}
