package io.basalt.engine;

import io.basalt.structured.CompiledGrammar;
import java.util.ArrayList;
import java.util.List;

/** Engine-thread state of one request: its sequences (n > 1 fans out after the prompt). */
final class RequestState {
    final EngineRequest request;
    final RequestHandle handle;
    /** The response_format grammar compiled at submit, or null: unconstrained. */
    final CompiledGrammar grammar;
    final List<Sequence> sequences = new ArrayList<>();
    /** Whether choices 1..n-1 have been forked off choice 0 (after its prompt was computed). */
    boolean forked;
    int numFinishedChoices;

    RequestState(EngineRequest request, RequestHandle handle, CompiledGrammar grammar) {
        this.request = request;
        this.handle = handle;
        this.grammar = grammar;
    }

    int numChoices() { return request.params().n(); }

    boolean isFinished() { return numFinishedChoices == numChoices(); }
}
