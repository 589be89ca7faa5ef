package io.basalt.frontend.tools;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Tool-call ids for one response: {@code call_} + 24 base62 characters (≈143 bits), never repeated
 * within the response. Seeded for reproducible requests (a request's {@code seed}), else SecureRandom.
 * Not thread-safe: one per response.
 */
public final class ToolCallIds {
    public static final String PREFIX = "call_";
    public static final int RANDOM_CHARS = 24;
    private static final char[] BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

    private final RandomGenerator random;
    private final Set<String> issued = new HashSet<>();

    private ToolCallIds(RandomGenerator random) { this.random = Objects.requireNonNull(random, "random"); }

    /** Ids from a per-request seed: the same seed gives the same ids in the same order. */
    public static ToolCallIds seeded(long seed) { return new ToolCallIds(new SplittableRandom(seed)); }

    /** Unpredictable ids. */
    public static ToolCallIds secure() { return new ToolCallIds(new SecureRandom()); }

    /** The next id, distinct from every id this instance issued before. */
    public String next() {
        while (true) {
            StringBuilder sb = new StringBuilder(PREFIX.length() + RANDOM_CHARS).append(PREFIX);
            for (int i = 0; i < RANDOM_CHARS; i++) sb.append(BASE62[random.nextInt(BASE62.length)]);
            String id = sb.toString();
            if (issued.add(id)) return id;
        }
    }

    /** Whether {@code id} has the shape this class issues. */
    public static boolean isWellFormed(String id) {
        if (id == null || id.length() != PREFIX.length() + RANDOM_CHARS || !id.startsWith(PREFIX)) return false;
        for (int i = PREFIX.length(); i < id.length(); i++) {
            char c = id.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')) return false;
        }
        return true;
    }
}
