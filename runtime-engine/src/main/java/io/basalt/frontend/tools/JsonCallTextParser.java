package io.basalt.frontend.tools;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What the text formats whose calls are JSON objects ({@code {"name": …, "arguments"|"parameters": …}}) share: the
 * declared names, the ids, the event sink, and the life of one call object read a character at a time
 * ({@link #openCall}, {@link #feedCall}, {@link #closeCall}), or read whole when its name came too late
 * ({@link #emitWhole}). Subclasses decide where a call object starts and ends ({@link #step}).
 */
abstract class JsonCallTextParser extends TextToolCallParser {
    private final Set<String> functions;
    private final ToolCallIds ids;
    final EventSink sink = new EventSink();

    JsonCallReader call;
    private boolean rejected;
    /** The open call's index, or -1 (no call object open, or one not started yet). */
    int index = -1;
    private int count;

    JsonCallTextParser(Collection<String> functionNames, ToolCallIds ids) {
        this.functions = Set.copyOf(functionNames);
        this.ids = Objects.requireNonNull(ids, "ids");
    }

    /** One character of output. */
    abstract void step(char c);

    @Override
    public final List<ToolCallEvent> acceptText(String text) {
        if (text != null) for (int i = 0; i < text.length(); i++) step(text.charAt(i));
        return sink.drain();
    }

    @Override
    public final int callCount() { return count; }

    /** A call object begins. */
    final void openCall() {
        call = new JsonCallReader();
        rejected = false;
        index = -1;
    }

    /** Its next character: the call opens once a declared name is complete, and its arguments stream as they come. */
    final void feedCall(char c) {
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

    /** The started call's object ended ({@code complete}: closed, so no arguments means {@code {}}; else cut short). */
    final void closeCall(boolean complete) {
        sink.arguments(index, call.drainArguments());
        if (complete && !call.sawArguments()) sink.arguments(index, "{}");
        sink.add(new ToolCallEvent.ToolCallEnd(index));
        index = -1;
    }

    /** A call object that did not start on the way (e.g. its name came after its arguments): a call if declared. */
    final boolean emitWhole(String raw) {
        JsonCallReader.Parsed p = JsonCallReader.parseWhole(raw);
        if (p == null || !functions.contains(p.name())) return false;
        int i = count++;
        sink.add(new ToolCallEvent.ToolCallStart(i, ids.next(), p.name()));
        sink.arguments(i, p.arguments() == null ? "{}" : p.arguments());
        sink.add(new ToolCallEvent.ToolCallEnd(i));
        return true;
    }
}
