package io.basalt.frontend.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The output of a named {@code tool_choice}: the grammar made the whole completion the function's arguments, so it is
 * one call, opened by the first delta (or at finish when nothing came), every delta an arguments fragment exactly as
 * generated. Never throws.
 */
public final class NamedCallParser extends TextToolCallParser {
    private final String name;
    private final ToolCallIds ids;
    private boolean started, finished;

    public NamedCallParser(String name, ToolCallIds ids) {
        this.name = Objects.requireNonNull(name, "name");
        this.ids = Objects.requireNonNull(ids, "ids");
    }

    @Override
    public List<ToolCallEvent> acceptText(String text) {
        if (finished) return List.of();
        List<ToolCallEvent> out = new ArrayList<>(2);
        open(out);
        if (text != null && !text.isEmpty()) out.add(new ToolCallEvent.ToolCallArguments(0, text));
        return out;
    }

    private void open(List<ToolCallEvent> out) {
        if (started) return;
        started = true;
        out.add(new ToolCallEvent.ToolCallStart(0, ids.next(), name));
    }

    @Override
    public int callCount() { return started ? 1 : 0; }

    @Override
    public List<ToolCallEvent> finish() {
        if (finished) return List.of();
        finished = true;
        List<ToolCallEvent> out = new ArrayList<>(2);
        open(out);
        out.add(new ToolCallEvent.ToolCallEnd(0));
        return out;
    }
}
