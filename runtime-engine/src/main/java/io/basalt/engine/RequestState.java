package io.basalt.engine;

import java.util.ArrayList;
import java.util.List;

/** Engine-thread state of one request: its sequences (n > 1 fans out after the prompt). */
final class RequestState {
    final EngineRequest request;
    final RequestHandle handle;
    final List<Sequence> sequences = new ArrayList<>();
    /** Whether choices 1..n-1 have been forked off choice 0 (after its prompt was computed). */
    boolean forked;
    int numFinishedChoices;

    RequestState(EngineRequest request, RequestHandle handle) {
        this.request = request;
        this.handle = handle;
    }

    int numChoices() { return request.params().n(); }

    boolean isFinished() { return numFinishedChoices == numChoices(); }
}
