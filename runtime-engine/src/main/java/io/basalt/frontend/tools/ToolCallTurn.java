package io.basalt.frontend.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A whole (non-streamed) answer assembled from {@link ToolCallEvent}s: the concatenated content and
 * reasoning, and the calls in index order with their arguments concatenated.
 */
public record ToolCallTurn(String content, String reasoning, List<ToolCall> toolCalls) {
    public ToolCallTurn {
        toolCalls = List.copyOf(toolCalls);
    }

    public static ToolCallTurn of(List<? extends ToolCallEvent> events) {
        StringBuilder content = new StringBuilder(), reasoning = new StringBuilder();
        Map<Integer, String[]> calls = new TreeMap<>();           // index → {id, name}
        Map<Integer, StringBuilder> arguments = new TreeMap<>();
        for (ToolCallEvent e : events) {
            switch (e) {
                case ToolCallEvent.Content c -> content.append(c.text());
                case ToolCallEvent.Reasoning r -> reasoning.append(r.text());
                case ToolCallEvent.ToolCallStart s -> {
                    calls.put(s.index(), new String[] {s.id(), s.name()});
                    arguments.put(s.index(), new StringBuilder());
                }
                case ToolCallEvent.ToolCallArguments a -> arguments.computeIfAbsent(a.index(), i -> new StringBuilder()).append(a.text());
                case ToolCallEvent.ToolCallEnd ignored -> { }
            }
        }
        List<ToolCall> out = new ArrayList<>();
        calls.forEach((index, idName) -> out.add(new ToolCall(idName[0], idName[1], arguments.get(index).toString())));
        return new ToolCallTurn(content.toString(), reasoning.toString(), out);
    }
}
