package io.basalt.frontend.harmony;

import io.basalt.frontend.tools.Tool;
import java.util.List;
import java.util.Objects;

/**
 * A namespace of tools as harmony declares them ({@code ## name}, then {@code namespace name { … }}): the
 * request's functions are the developer message's {@code functions} namespace; built-ins such as
 * {@code browser} or {@code python} are namespaces of the system message.
 *
 * @param description free text rendered under the {@code ## name} heading (as {@code // } comments when the
 *                    namespace has tools), or null
 * @param tools       may be empty (harmony's python tool is a description only)
 */
public record HarmonyToolNamespace(String name, String description, List<Tool> tools) {
    public static final String FUNCTIONS = "functions";

    public HarmonyToolNamespace {
        Objects.requireNonNull(name, "name");
        tools = List.copyOf(Objects.requireNonNull(tools, "tools"));
    }

    /** The developer message's {@code functions} namespace. */
    public static HarmonyToolNamespace functions(List<Tool> tools) { return new HarmonyToolNamespace(FUNCTIONS, null, tools); }
}
