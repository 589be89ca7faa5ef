package io.basalt.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Output paths checked before any work starts: a long forward pass must not end in "cannot write". */
final class OutputFile {
    private OutputFile() {}

    /** The folder {@code file} goes into exists and can be written, and {@code file} is not a folder. */
    static Path check(String option, Path file) {
        Path parent = file.toAbsolutePath().normalize().getParent();
        if (Files.isDirectory(file)) throw new IllegalArgumentException(option + " " + file + " is a folder; name a file");
        if (parent != null && !Files.isDirectory(parent)) {
            throw new IllegalArgumentException(option + " " + file + ": the folder " + parent + " does not exist");
        }
        if (parent != null && !Files.isWritable(parent)) {
            throw new IllegalArgumentException(option + " " + file + ": the folder " + parent + " is not writable");
        }
        return file;
    }
}
