package io.basalt.engine;

/** Where a sequence is in its life (a preempted one is WAITING again). */
enum SequenceStatus { WAITING, RUNNING, FINISHED }
