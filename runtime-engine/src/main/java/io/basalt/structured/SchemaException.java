package io.basalt.structured;

/**
 * A schema the grammar engine will not compile: an unsupported keyword, a limit exceeded, or an
 * unsatisfiable schema. Never a silent ignore. {@link #path()} is a JSON pointer into the schema.
 */
public final class SchemaException extends IllegalArgumentException {
    private final String path;
    private final String keyword;

    public SchemaException(String path, String keyword, String message) {
        super(message);
        this.path = path;
        this.keyword = keyword;
    }

    static SchemaException unsupported(String path, String keyword) {
        return new SchemaException(path, keyword,
                "unsupported keyword '" + keyword + "' at " + (path.isEmpty() ? "/" : path));
    }

    /** The JSON pointer of the schema object at fault ("" is the root). */
    public String path() { return path; }

    /** The keyword at fault, or a short name of the limit ("depth", "size", "timeout", "unsatisfiable"). */
    public String keyword() { return keyword; }
}
