package io.basalt.frontend;

/**
 * A JSON string literal as Python's {@code json.dumps(ensure_ascii=False)} and serde_json write it: the quote, the
 * backslash and the C0 controls escaped (newline, return, tab, backspace and form feed by name, the rest as four hex
 * digits), everything else as is.
 * Prompts are rendered byte for byte as the model saw them in training, so the escaping must be exactly this one.
 */
public final class JsonStrings {
    private JsonStrings() {}

    /** Appends {@code s} as a quoted JSON string. */
    public static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
