package io.basalt.server.grpc;

import io.basalt.server.OverloadedException;
import io.basalt.server.ServedModel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Exceptions of the serving core → gRPC statuses whose descriptions name the problem. */
final class GrpcErrors {
    private GrpcErrors() {}

    static StatusRuntimeException toStatus(Throwable e) {
        return switch (e) {
            case StatusRuntimeException s -> s;
            case OverloadedException o -> Status.RESOURCE_EXHAUSTED.withDescription(o.getMessage()).asRuntimeException();
            case IllegalArgumentException i -> Status.INVALID_ARGUMENT.withDescription(i.getMessage()).asRuntimeException();
            // Engine.submit after close: the server is going away.
            case IllegalStateException i -> Status.UNAVAILABLE.withDescription(i.getMessage()).asRuntimeException();
            default -> Status.INTERNAL.withDescription("internal error: " + e).withCause(e).asRuntimeException();
        };
    }

    static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    /** A choice failed inside the engine. */
    static StatusRuntimeException engineFailure(String message) {
        Status status = message != null && message.startsWith("duplicate request id") ? Status.ALREADY_EXISTS : Status.INTERNAL;
        return status.withDescription(message).asRuntimeException();
    }

    /** The served model when {@code name} is empty or one of its names; NOT_FOUND otherwise. */
    static ServedModel resolve(ServedModel model, String name) {
        if (name.isEmpty() || model.answersTo(name)) return model;
        throw Status.NOT_FOUND.withDescription("model '" + name + "' is not served here; this server serves "
                + String.join(", ", model.names().stream().map(n -> "'" + n + "'").toList())).asRuntimeException();
    }
}
