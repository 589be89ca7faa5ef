package io.basalt.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --compiled DIR}, shared by serve and parity run: a package compiled ahead of time for the backend (neuron). */
final class CompiledOption {
    @Option(names = "--compiled", paramLabel = "DIR",
            description = "A package compiled ahead of time for the backend (--backend neuron: manifest.json and its NEFFs, "
                    + "from 'basalt neuron compile'); backends that compile nothing ahead refuse one.")
    Path dir;

    /** The directory, or null when not given; checked before any model is loaded, so a typo is one line. */
    Path checked() {
        if (dir == null) return null;
        if (!Files.exists(dir)) throw new IllegalArgumentException("--compiled " + dir + ": no such directory");
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--compiled " + dir + ": not a directory (a compiled package is a directory)");
        return dir;
    }
}
