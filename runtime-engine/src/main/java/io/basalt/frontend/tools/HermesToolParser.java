package io.basalt.frontend.tools;

import java.util.Collection;
import java.util.List;

/**
 * Hermes / Qwen calls: {@code <tool_call>{"name": "NAME", "arguments": {...}}</tool_call>}, any number per turn,
 * whitespace allowed around the JSON; text outside the tags is content. Read from text deltas, leniently (never
 * throws on model output):
 * <ul>
 *   <li>a delta ending in part of {@code <tool_call>} holds that part back until the next characters decide it,
 *       so half a tag never reaches the content;</li>
 *   <li>a call opens ({@link ToolCallEvent.ToolCallStart}) when the name's closing quote arrives, if the request
 *       declared that function; its arguments ("parameters" is read as a synonym) then stream as written, and
 *       their fragments concatenate to the raw JSON text of the value. No arguments key gives {@code {}};</li>
 *   <li>a tag with the name after the arguments is read whole at {@code </tool_call>};</li>
 *   <li>a tag whose name is undeclared, or whose body is not a call object, is content: its whole text, tags
 *       included;</li>
 *   <li>at {@link #finish()} an open call ends with the arguments generated so far (a trailing part of
 *       {@code </tool_call>} is dropped); an unfinished tag that never became a call is content.</li>
 * </ul>
 */
public final class HermesToolParser extends JsonCallTextParser {
    static final String OPEN = "<tool_call>";
    static final String CLOSE = "</tool_call>";

    private boolean inTag;
    private final StringBuilder held = new StringBuilder();   // a possible prefix of OPEN (outside) or CLOSE (inside)
    private final StringBuilder body = new StringBuilder();   // the tag's text fed to the reader so far
    /** @param functionNames the request's functions: only these are calls */
    public HermesToolParser(Collection<String> functionNames, ToolCallIds ids) {
        super(functionNames, ids);
    }

    @Override
    public List<ToolCallEvent> finish() {
        if (!inTag) {
            sink.content(held);
        } else if (index >= 0) {
            closeCall(false);
        } else {
            body.append(held);
            closeUnstarted(false);
        }
        held.setLength(0);
        inTag = false;
        return sink.drain();
    }

    @Override
    void step(char c) {
        held.append(c);
        String tag = inTag ? CLOSE : OPEN;
        if (held.length() == tag.length() && held.toString().equals(tag)) {
            held.setLength(0);
            if (inTag) closeTag();
            else openTag();
            return;
        }
        while (!held.isEmpty() && !tag.startsWith(held.toString())) {
            char first = held.charAt(0);
            held.deleteCharAt(0);
            if (inTag) feed(first);
            else sink.content(first);
        }
    }

    private void openTag() {
        inTag = true;
        body.setLength(0);
        openCall();
    }

    private void feed(char c) {
        body.append(c);
        feedCall(c);
    }

    private void closeTag() {
        if (index >= 0) closeCall(true);
        else closeUnstarted(true);
        inTag = false;
    }

    /** A tag that did not open a call on the fast path: a call read whole, or content. */
    private void closeUnstarted(boolean closed) {
        if (!emitWhole(body.toString())) {
            sink.content(OPEN);
            sink.content(body);
            if (closed) sink.content(CLOSE);
        }
    }
}
