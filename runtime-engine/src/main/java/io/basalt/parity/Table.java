package io.basalt.parity;

import java.util.ArrayList;
import java.util.List;

/**
 * A report table, rendered as aligned text (stdout), Markdown or HTML from the same cells. The
 * first {@code textColumns} columns are left-aligned, the numbers after them right-aligned.
 */
record Table(String title, int textColumns, List<String> headers, List<List<String>> rows) {
    Table {
        headers = List.copyOf(headers);
        rows = List.copyOf(rows);
    }

    String text() {
        int[] w = new int[headers.size()];
        for (int c = 0; c < w.length; c++) {
            w[c] = headers.get(c).length();
            for (List<String> r : rows) w[c] = Math.max(w[c], r.get(c).length());
        }
        StringBuilder sb = new StringBuilder(title).append('\n');
        line(sb, headers, w);
        List<String> rule = new ArrayList<>();
        for (int x : w) rule.add("-".repeat(x));
        line(sb, rule, w);
        for (List<String> r : rows) line(sb, r, w);
        return sb.toString();
    }

    private void line(StringBuilder sb, List<String> cells, int[] w) {
        StringBuilder l = new StringBuilder("  ");
        for (int c = 0; c < cells.size(); c++) {
            String pad = " ".repeat(w[c] - cells.get(c).length());
            l.append(c < textColumns ? cells.get(c) + pad : pad + cells.get(c));
            if (c + 1 < cells.size()) l.append("  ");
        }
        sb.append(l.toString().stripTrailing()).append('\n');
    }

    String markdown() {
        StringBuilder sb = new StringBuilder("### ").append(title).append("\n\n");
        sb.append("| ").append(String.join(" | ", headers.stream().map(Table::md).toList())).append(" |\n|");
        for (int c = 0; c < headers.size(); c++) sb.append(c < textColumns ? " --- |" : " ---: |");
        sb.append('\n');
        for (List<String> r : rows) sb.append("| ").append(String.join(" | ", r.stream().map(Table::md).toList())).append(" |\n");
        return sb.append('\n').toString();
    }

    String html() {
        StringBuilder sb = new StringBuilder("<h2>").append(Html.escape(title)).append("</h2>\n<table>\n<tr>");
        for (String h : headers) sb.append("<th>").append(Html.escape(h)).append("</th>");
        sb.append("</tr>\n");
        for (List<String> r : rows) {
            sb.append("<tr>");
            for (int c = 0; c < r.size(); c++) {
                String cls = (c < textColumns ? "t" : "") + (r.get(c).equals("FAIL") ? " fail" : "");
                sb.append(cls.isEmpty() ? "<td>" : "<td class=\"" + cls.strip() + "\">").append(Html.escape(r.get(c))).append("</td>");
            }
            sb.append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    private static String md(String s) { return s.replace("|", "\\|").replace("\n", " "); }
}
