package io.basalt.engine;

import java.util.ArrayList;
import java.util.List;

/** Engine-thread state of one request: its sequences (n > 1 fans out after the prompt). */
final class RequestState {
    final EngineRequest request;
    final RequestHandle handle;
    /** The constraint compiled at submit, or null: unconstrained. */
    final CompiledConstraint grammar;
    final List<Sequence> sequences = new ArrayList<>();
    /** Whether choices 1..n-1 have been forked off choice 0 (after its prompt was computed). */
    boolean forked;
    int numFinishedChoices;

    RequestState(EngineRequest request, RequestHandle handle, CompiledConstraint grammar) {
        this.request = request;
        this.handle = handle;
        this.grammar = grammar;
    }

    int numChoices() { return request.params().n(); }

    boolean isFinished() { return numFinishedChoices == numChoices(); }
}
