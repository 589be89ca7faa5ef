package io.basalt.engine;

/** Where a sequence is in its life. */
public enum SequenceStatus { WAITING, RUNNING, PREEMPTED, FINISHED }
