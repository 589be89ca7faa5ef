package io.basalt.server.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Requires {@code authorization: Bearer <key>} metadata on every call except the standard health
 * service (load balancers and orchestrators probe it without credentials). Keys are compared in
 * constant time.
 */
final class ApiKeyInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String BEARER = "Bearer ";

    private final byte[] expected;

    ApiKeyInterceptor(String apiKey) {
        if (apiKey.isEmpty()) throw new IllegalArgumentException("the API key must not be empty");
        this.expected = apiKey.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
                                                                 ServerCallHandler<ReqT, RespT> next) {
        if (HealthGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) return next.startCall(call, headers);
        String value = headers.get(AUTHORIZATION);
        String problem;
        if (value == null) {
            problem = "missing API key: send metadata 'authorization: Bearer <key>'";
        } else if (!value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            problem = "the 'authorization' metadata must be 'Bearer <key>'";
        } else if (!MessageDigest.isEqual(expected, value.substring(BEARER.length()).trim().getBytes(StandardCharsets.UTF_8))) {
            problem = "invalid API key";
        } else {
            return next.startCall(call, headers);
        }
        call.close(Status.UNAUTHENTICATED.withDescription(problem), new Metadata());
        return new ServerCall.Listener<>() { };
    }
}
