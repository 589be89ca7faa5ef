package io.basalt.backend;

import java.io.PrintStream;
import java.util.List;

/**
 * A backend's own CLI command ({@code basalt neuron compile|check}), found through {@link java.util.ServiceLoader}:
 * the CLI lists the installed ones and hands them their arguments, so it never names a backend's classes.
 */
public interface BackendCommand {
    /** The command word, e.g. {@code neuron}. */
    String name();

    /** One line for the CLI's help. */
    String description();

    /** Runs with the arguments after the command word; returns the exit status (0 ok, 1 failed, 2 bad usage). */
    int run(List<String> args, PrintStream out, PrintStream err);
}
