package io.basalt.server.openai;

/**
 * Jinja's whitespace control on expressions ({@code {{- x }}}, {@code {{ x -}}}), which Jinjava ignores (it honours
 * it on {@code {% %}} tags only), applied to the template's source before Jinjava sees it: the template text right
 * before {@code {{-} and right after {@code -}}} loses its whitespace, newlines included, as in Jinja. Hugging Face
 * templates (Qwen, Llama 3, …) indent their code and rely on this to keep that indentation out of the prompt.
 * Strings inside tags, comments and {@code {% raw %}} blocks are left alone.
 */
final class JinjaWhitespace {
    private JinjaWhitespace() {}

    static String apply(String src) {
        if (!src.contains("{{-") && !src.contains("-}}")) return src;
        StringBuilder out = new StringBuilder(src.length());
        int i = 0, n = src.length();
        while (i < n) {
            if (src.startsWith("{#", i)) {
                int end = src.indexOf("#}", i + 2);
                end = end < 0 ? n : end + 2;
                out.append(src, i, end);
                i = end;
            } else if (src.startsWith("{%", i)) {
                int end = closing(src, i + 2, "%}");
                if (end < 0) {
                    out.append(src, i, n);
                    break;
                }
                String body = src.substring(i + 2, end).replace("-", " ").strip();
                out.append(src, i, end + 2);
                i = end + 2;
                if (body.equals("raw")) {                     // copied as is up to {% endraw %}
                    int stop = src.indexOf("endraw", i);
                    stop = stop < 0 ? n : src.indexOf("%}", stop);
                    stop = stop < 0 ? n : stop + 2;
                    out.append(src, i, stop);
                    i = stop;
                }
            } else if (src.startsWith("{{", i)) {
                int end = closing(src, i + 2, "}}");
                if (end < 0) {
                    out.append(src, i, n);
                    break;
                }
                boolean left = src.charAt(i + 2) == '-';
                int from = i + (left ? 3 : 2);
                boolean right = end - 1 >= from && src.charAt(end - 1) == '-';
                if (left) while (!out.isEmpty() && Character.isWhitespace(out.charAt(out.length() - 1))) out.setLength(out.length() - 1);
                out.append("{{").append(src, from, right ? end - 1 : end).append("}}");
                i = end + 2;
                if (right) while (i < n && Character.isWhitespace(src.charAt(i))) i++;
            } else {
                out.append(src.charAt(i++));
            }
        }
        return out.toString();
    }

    /** Where {@code close} ends the tag that starts before {@code from}, skipping quoted strings; -1 if never. */
    private static int closing(String src, int from, String close) {
        char quote = 0;
        for (int i = from; i < src.length(); i++) {
            char c = src.charAt(i);
            if (quote != 0) {
                if (c == '\\') i++;
                else if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (src.startsWith(close, i)) {
                return i;
            }
        }
        return -1;
    }
}
