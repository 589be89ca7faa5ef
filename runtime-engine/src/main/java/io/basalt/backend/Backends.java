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

    public static Backend open(String name) {
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            if (p.name().equals(name)) {
                if (!p.isAvailable()) throw new IllegalArgumentException("backend '" + name + "' is not available on this machine");
                return p.open();
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "' (available: " + String.join(", ", names()) + ")");
    }
}
