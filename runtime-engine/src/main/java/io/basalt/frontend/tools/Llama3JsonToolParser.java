package io.basalt.frontend.tools;

import java.util.Collection;
import java.util.List;

/**
 * Llama 3.1 JSON custom-tool calls: the output, optionally after {@code <|python_tag|>}, is
 * {@code {"name": "NAME", "parameters": {...}}} ("arguments" too; an optional {@code "type": "function"} first),
 * several calls separated by {@code ;}. Read from text deltas, leniently (never throws on model output):
 * <ul>
 *   <li>only output whose first non-blank text is {@code {} or {@code <|python_tag|>} is read as calls; any other
 *       output is all content (leading blanks are held until the first other character decides);</li>
 *   <li>a call opens when the name's closing quote arrives, if the request declared it, and its arguments stream
 *       raw, as written; an object with the name after the arguments is read whole when it closes;</li>
 *   <li>an object that is not a call of a declared function is content (its text as written), and so is whatever
 *       follows the calls that is neither a blank, a {@code ;} nor another object;</li>
 *   <li>at {@link #finish()} an open call ends with the arguments generated so far.</li>
 * </ul>
 */
public final class Llama3JsonToolParser extends JsonCallTextParser {
    static final String PYTHON_TAG = "<|python_tag|>";

    private enum Mode { UNDECIDED, CONTENT, CALLS }

    private enum Slot { BEFORE, IN_CALL, AFTER }

    private Mode mode = Mode.UNDECIDED;
    private Slot slot = Slot.BEFORE;
    private final StringBuilder held = new StringBuilder();

    /** @param functionNames the request's functions: only these are calls */
    public Llama3JsonToolParser(Collection<String> functionNames, ToolCallIds ids) {
        super(functionNames, ids);
    }

    @Override
    public List<ToolCallEvent> finish() {
        if (mode == Mode.UNDECIDED) {
            sink.content(held);
            held.setLength(0);
        } else if (mode == Mode.CALLS && slot == Slot.IN_CALL) {
            if (index >= 0) closeCall(false);
            else sink.content(call.raw());
            slot = Slot.AFTER;
        }
        return sink.drain();
    }

    @Override
    void step(char c) {
        switch (mode) {
            case CONTENT -> sink.content(c);
            case UNDECIDED -> {
                held.append(c);
                String t = held.toString().stripLeading();
                if (t.isEmpty()) return;
                if (t.charAt(0) == '{') {
                    mode = Mode.CALLS;
                    held.setLength(0);
                    calls(c);
                } else if (PYTHON_TAG.startsWith(t)) {
                    if (t.length() == PYTHON_TAG.length()) {
                        mode = Mode.CALLS;
                        held.setLength(0);
                    }
                } else {
                    mode = Mode.CONTENT;
                    sink.content(held);
                    held.setLength(0);
                }
            }
            case CALLS -> calls(c);
        }
    }

    private void calls(char c) {
        switch (slot) {
            case BEFORE, AFTER -> {
                if (Character.isWhitespace(c)) return;
                if (c == ';' && slot == Slot.AFTER) {
                    slot = Slot.BEFORE;
                } else if (c == '{') {
                    slot = Slot.IN_CALL;
                    openCall();
                    feed(c);
                } else {
                    mode = Mode.CONTENT;          // prose after (or instead of) the calls
                    sink.content(c);
                }
            }
            case IN_CALL -> feed(c);
        }
    }

    private void feed(char c) {
        feedCall(c);
        if (!call.closed()) return;
        if (index >= 0) closeCall(true);
        else if (!emitWhole(call.raw())) sink.content(call.raw());
        slot = Slot.AFTER;
    }
}
