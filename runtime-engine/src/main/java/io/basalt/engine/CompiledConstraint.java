package io.basalt.engine;

import io.basalt.structured.CompiledGrammar;

/** A request's {@link io.basalt.api.Constraint}, compiled at submit ({@link Grammars#compile}); immutable, shared by its choices. */
sealed interface CompiledConstraint permits CompiledConstraint.Whole, TaggedGrammar {
    /** The whole output is one value of the grammar (response_format): the choice ends when it terminates. */
    record Whole(CompiledGrammar grammar) implements CompiledConstraint { }
}
