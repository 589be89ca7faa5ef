package io.basalt.backend.neuron;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the machine shows about Neuron devices, for messages only (libnrt's visible count decides): the
 * {@code /dev/neuron<N>} devices under a root and the cores {@code NEURON_RT_VISIBLE_CORES} selects
 * ({@code 3}, {@code 0-3}, {@code 0,2,5}, or a mix of ranges and single cores).
 *
 * @param devices       how many /dev/neuron* device files there are
 * @param visibleCores  the cores NEURON_RT_VISIBLE_CORES names, empty when it is unset
 */
public record CoreDiscovery(int devices, Optional<List<Integer>> visibleCores) {
    private static final Pattern DEVICE = Pattern.compile("neuron\\d+");

    /** The real machine: /dev and the environment. */
    public static CoreDiscovery discover() { return discover(Path.of("/"), System.getenv("NEURON_RT_VISIBLE_CORES")); }

    /** Devices under {@code root}/dev; {@code visibleCoresEnv} as NEURON_RT_VISIBLE_CORES (null: unset). */
    public static CoreDiscovery discover(Path root, String visibleCoresEnv) {
        int devices = 0;
        Path dev = root.resolve("dev");
        if (Files.isDirectory(dev)) {
            try (Stream<Path> s = Files.list(dev)) {
                devices = (int) s.filter(p -> DEVICE.matcher(p.getFileName().toString()).matches()).count();
            } catch (IOException e) {
                devices = 0; // unreadable /dev: nothing to report
            }
        }
        return new CoreDiscovery(devices, visibleCoresEnv == null || visibleCoresEnv.isBlank()
                ? Optional.empty() : Optional.of(parseVisibleCores(visibleCoresEnv)));
    }

    /** {@code 3}, {@code 0-3}, {@code 0,2,5} or {@code 0-1,4}; anything else is an error naming the variable and value. */
    public static List<Integer> parseVisibleCores(String value) {
        List<Integer> cores = new ArrayList<>();
        for (String part : value.trim().split(",")) {
            String p = part.trim();
            try {
                int dash = p.indexOf('-');
                if (dash < 0) {
                    cores.add(nonNegative(p));
                } else {
                    int a = nonNegative(p.substring(0, dash).trim());
                    int b = nonNegative(p.substring(dash + 1).trim());
                    if (b < a) throw new NumberFormatException();
                    for (int c = a; c <= b; c++) cores.add(c);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("NEURON_RT_VISIBLE_CORES='" + value + "': '" + p
                        + "' is not a core, a range a-b or a list (e.g. 0, 0-3, 0,2,5)");
            }
        }
        return List.copyOf(cores);
    }

    private static int nonNegative(String s) {
        int v = Integer.parseInt(s);
        if (v < 0) throw new NumberFormatException();
        return v;
    }

    /** e.g. "2 Neuron devices (/dev/neuron*), NEURON_RT_VISIBLE_CORES selects 2 cores [0, 1]". */
    public String describe() {
        String d = devices == 0 ? "no Neuron device (/dev/neuron*)" : devices + " Neuron device" + (devices == 1 ? "" : "s") + " (/dev/neuron*)";
        return d + visibleCores.map(c -> ", NEURON_RT_VISIBLE_CORES selects " + c.size() + " core" + (c.size() == 1 ? "" : "s") + " " + c)
                .orElse(", NEURON_RT_VISIBLE_CORES unset");
    }
}
