package io.basalt.frontend.tools;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;

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
public final class HermesToolParser extends TextToolCallParser {
    static final String OPEN = "<tool_call>";
    static final String CLOSE = "</tool_call>";

    private final Set<String> functions;
    private final ToolCallIds ids;
    private final EventSink sink = new EventSink();

    private boolean inTag;
    private final StringBuilder held = new StringBuilder();   // a possible prefix of OPEN (outside) or CLOSE (inside)
    private final StringBuilder body = new StringBuilder();   // the tag's text fed to the reader so far
    private JsonCallReader call;
    private boolean rejected;
    private int index = -1, count;

    /** @param functionNames the request's functions: only these are calls */
    public HermesToolParser(Collection<String> functionNames, ToolCallIds ids) {
        this.functions = Set.copyOf(functionNames);
        this.ids = Objects.requireNonNull(ids, "ids");
    }

    @Override
    public List<ToolCallEvent> acceptText(String text) {
        if (text != null) for (int i = 0; i < text.length(); i++) step(text.charAt(i));
        return sink.drain();
    }

    @Override
    public int callCount() { return count; }

    @Override
    public List<ToolCallEvent> finish() {
        if (!inTag) {
            sink.content(held);
        } else if (index >= 0) {
            sink.arguments(index, call.drainArguments());
            sink.add(new ToolCallEvent.ToolCallEnd(index));
        } else {
            body.append(held);
            closeUnstarted(false);
        }
        held.setLength(0);
        inTag = false;
        return sink.drain();
    }

    private void step(char c) {
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
        call = new JsonCallReader();
        rejected = false;
        index = -1;
    }

    private void feed(char c) {
        body.append(c);
        call.accept(c);
        if (index < 0 && !rejected && call.head() == JsonCallReader.Head.NAMED) {
            if (functions.contains(call.name())) {
                index = count++;
                sink.add(new ToolCallEvent.ToolCallStart(index, ids.next(), call.name()));
            } else {
                rejected = true;
            }
        }
        if (index >= 0) sink.arguments(index, call.drainArguments());
    }

    private void closeTag() {
        if (index >= 0) {
            sink.arguments(index, call.drainArguments());
            if (!call.sawArguments()) sink.arguments(index, "{}");
            sink.add(new ToolCallEvent.ToolCallEnd(index));
        } else {
            closeUnstarted(true);
        }
        inTag = false;
        index = -1;
    }

    /** A tag that did not open a call on the fast path: a call read whole, or content. */
    private void closeUnstarted(boolean closed) {
        JsonCallReader.Parsed p = JsonCallReader.parseWhole(body.toString());
        if (p != null && functions.contains(p.name())) {
            int i = count++;
            sink.add(new ToolCallEvent.ToolCallStart(i, ids.next(), p.name()));
            sink.arguments(i, p.arguments() == null ? "{}" : p.arguments());
            sink.add(new ToolCallEvent.ToolCallEnd(i));
        } else {
            sink.content(OPEN);
            sink.content(body);
            if (closed) sink.content(CLOSE);
        }
    }
}
