package io.basalt.structured;

import java.time.Duration;

/**
 * Bounds on what {@link SchemaCompiler} accepts; exceeding one is a {@link SchemaException}.
 *
 * @param maxSchemaBytes  the schema's UTF-8 size
 * @param maxDepth        JSON nesting of the schema document
 * @param maxEnumSize     entries of one enum
 * @param compileTimeout  wall time of one compilation
 * @param maxValueDepth   nesting of the generated value (bounds recursive $ref)
 */
public record Limits(int maxSchemaBytes, int maxDepth, int maxEnumSize, Duration compileTimeout, int maxValueDepth) {
    public static final Limits DEFAULT = new Limits(256 * 1024, 64, 1024, Duration.ofSeconds(2), 24);

    public Limits {
        if (maxSchemaBytes <= 0 || maxDepth <= 0 || maxEnumSize <= 0 || maxValueDepth <= 0 || compileTimeout.isNegative()) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }
}
