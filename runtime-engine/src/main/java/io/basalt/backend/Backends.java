package io.basalt.backend;

import io.basalt.spi.Backend;
import io.basalt.spi.BackendProvider;
import java.util.List;
import java.util.ServiceLoader;

/** Finds backends by name through {@link ServiceLoader}; an unknown or unavailable name is an error. */
public final class Backends {
    private Backends() {}

    public static List<String> names() {
        return ServiceLoader.load(BackendProvider.class).stream().map(p -> p.get().name()).sorted().toList();
    }

    /** Whether a backend of this name is installed and can run here (e.g. its native library loads). */
    public static boolean isAvailable(String name) {
        return ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .anyMatch(p -> p.name().equals(name) && p.isAvailable());
    }

    /** {@code name}, when a backend of that name is installed; otherwise an error that lists those that are. */
    public static String requireInstalled(String name) {
        if (!names().contains(name)) {
            throw new IllegalArgumentException("unknown backend '" + name + "' (available: " + String.join(", ", names()) + ")");
        }
        return name;
    }

    public static Backend open(String name) {
        requireInstalled(name);
        BackendProvider p = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        if (!p.isAvailable()) {
            String why = p.unavailableReason();
            throw new IllegalArgumentException("backend '" + name + "' is not available on this machine" + (why.isBlank() ? "" : ": " + why));
        }
        return p.open();
    }
}
