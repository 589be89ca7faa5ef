package io.basalt.cli;

import io.basalt.backend.Backends;
import java.util.Iterator;

/** The installed backends, for {@code --backend}'s help ({@code ${COMPLETION-CANDIDATES}}). */
final class BackendNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() { return Backends.names().iterator(); }
}
