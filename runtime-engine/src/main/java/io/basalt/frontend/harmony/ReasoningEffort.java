package io.basalt.frontend.harmony;

/** gpt-oss reasoning effort, rendered in the system message as "Reasoning: low|medium|high". */
public enum ReasoningEffort {
    LOW, MEDIUM, HIGH;

    String text() { return name().toLowerCase(java.util.Locale.ROOT); }
}
