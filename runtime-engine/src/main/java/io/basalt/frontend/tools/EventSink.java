package io.basalt.frontend.tools;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects the events of one delta, merging consecutive text of the same kind (content, or one call's arguments),
 * so that a character-at-a-time parser still hands out few, large events.
 */
final class EventSink {
    private final List<ToolCallEvent> out = new ArrayList<>();
    private final StringBuilder text = new StringBuilder();
    private int textIndex = Integer.MIN_VALUE;       // -1: content; >= 0: that call's arguments; MIN_VALUE: nothing held

    void content(CharSequence s) { text(-1, s); }

    void content(char c) { text(-1, String.valueOf(c)); }

    void arguments(int index, CharSequence s) { text(index, s); }

    void add(ToolCallEvent e) {
        flushText();
        out.add(e);
    }

    private void text(int index, CharSequence s) {
        if (s.isEmpty()) return;
        if (textIndex != index) flushText();
        textIndex = index;
        text.append(s);
    }

    private void flushText() {
        if (!text.isEmpty()) {
            out.add(textIndex < 0 ? new ToolCallEvent.Content(text.toString()) : new ToolCallEvent.ToolCallArguments(textIndex, text.toString()));
        }
        text.setLength(0);
        textIndex = Integer.MIN_VALUE;
    }

    /** The events so far; the sink is empty afterwards. */
    List<ToolCallEvent> drain() {
        flushText();
        List<ToolCallEvent> r = List.copyOf(out);
        out.clear();
        return r;
    }
}
