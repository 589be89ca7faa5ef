package io.basalt.cli;

import io.basalt.backend.Backends;
import picocli.CommandLine.Option;

/** {@code --backend}, shared by serve, generate, logits and parity run. */
final class BackendOption {
    @Option(names = "--backend", defaultValue = "cpu", completionCandidates = BackendNames.class,
            description = "Backend that runs the model: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    String name;

    /** The chosen backend's name, checked against the installed ones (so serve fails before it loads anything). */
    String name() { return Backends.requireInstalled(name); }
}
