package io.basalt.server.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the server answers with an OpenAI-shaped error: {@code {"error":{"message","type","param","code"}}}.
 * Thrown anywhere between parsing and submission; the HTTP layer turns it into a response with {@link #status()}.
 */
public final class OpenAiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public OpenAiException(int status, String type, String message, String param, String code) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: a malformed body or a value out of range; {@code param} names the field (null if none). */
    public static OpenAiException invalid(String param, String message) {
        return new OpenAiException(400, "invalid_request_error", message, param, null);
    }

    /** 400 for an OpenAI feature this server does not implement. */
    public static OpenAiException unsupported(String param, String message) {
        return new OpenAiException(400, "invalid_request_error", message, param, "unsupported_parameter");
    }

    /** 404: the request names a model this server does not serve. */
    public static OpenAiException modelNotFound(String model) {
        return new OpenAiException(404, "invalid_request_error", "The model '" + model + "' does not exist", "model",
                "model_not_found");
    }

    public int status() { return status; }

    public String type() { return type; }

    public String param() { return param; }

    public String code() { return code; }

    /** The response body. */
    public ObjectNode toJson() { return body(getMessage(), type, param, code); }

    /** {@code {"error":{"message","type","param","code"}}}: all four keys are always present. */
    public static ObjectNode body(String message, String type, String param, String code) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return root;
    }
}
