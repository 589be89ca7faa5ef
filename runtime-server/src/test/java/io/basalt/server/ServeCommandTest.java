package io.basalt.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.cli.CliTest;
import io.basalt.cli.ServeCommand;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code basalt serve}'s option checking: every mistake is one "basalt: ..." line and exit status 2. */
class ServeCommandTest {
    static CliTest.Run run(String... args) { return CliTest.run(args); }

    static void assertOneLineError(CliTest.Run r, String... fragments) { CliTest.assertOneLine(r, fragments); }

    @Test
    void badOptionsAreOneLineAndExitTwo() {
        assertOneLineError(run("serve", "x.bin", "--port", "abc"), "--port", "abc");
        assertOneLineError(run("serve", "x.bin", "--port", "70000"), "--port", "65535");
        assertOneLineError(run("serve", "x.bin", "--grpc-port", "-2"), "--grpc-port");
        assertOneLineError(run("serve", "x.bin", "--kv-cache-memory", "12XB"), "--kv-cache-memory", "XB");
        assertOneLineError(run("serve", "x.bin", "--max-num-seqs", "0"), "--max-num-seqs");
        assertOneLineError(run("serve", "x.bin", "--max-queue", "-1"), "--max-queue");
        assertOneLineError(run("serve", "x.bin", "--request-timeout", "soon"), "--request-timeout", "soon");
        assertOneLineError(run("serve", "x.bin", "--shutdown-grace", "-5s"), "--shutdown-grace");
        assertOneLineError(run("serve", "x.bin", "--frobnicate"), "unknown option", "--frobnicate");
        assertOneLineError(run("serve", "a.bin", "b.bin"), "unexpected argument", "b.bin");
        assertOneLineError(run("serve", "x.bin", "--backend", "tpu"), "unknown backend 'tpu'", "cpu");
        assertOneLineError(run("serve", "x.bin", "--max-model-len", "1"), "--max-model-len", "2..");
        assertOneLineError(run("serve", "x.bin", "--max-model-len", "long"), "--max-model-len", "long");
        assertOneLineError(run("serve", "x.bin", "--threads", "0"), "--threads");
        assertOneLineError(run("serve", "x.bin", "--metrics-names", "prometheus"), "--metrics-names", "vllm or basalt");
    }

    @Test
    void chatTemplateAndToolCallParserAreChecked() {
        assertOneLineError(run("serve", "x.bin", "--tool-call-parser", "mistral"), "--tool-call-parser", "hermes, llama3_json, harmony",
                "mistral");
        assertOneLineError(run("serve", "x.bin", "--chat-template", "/no/such/template.jinja"), "--chat-template",
                "/no/such/template.jinja", "no such file");
        String gptOss = io.basalt.testing.Shared.model("gpt-oss-tiny-random/hf").toString();
        assertOneLineError(run("serve", gptOss, "--tool-call-parser", "hermes", "--port", "0", "--grpc-port", "-1",
                "--kv-cache-memory", "16MiB", "--max-num-seqs", "2", "--max-model-len", "256"), "--tool-call-parser hermes", "harmony");
        String stories = io.basalt.testing.Shared.model("stories260K/stories260K.bin").toString();
        assertOneLineError(run("serve", stories, "--tool-call-parser", "harmony", "--port", "0", "--grpc-port", "-1"),
                "--tool-call-parser harmony is for gpt-oss models");
    }

    @Test
    void aKvCacheSmallerThanOneContextRefusesToStart() {
        String model = io.basalt.testing.Shared.model("stories260K/stories260K.bin").toString();
        assertOneLineError(run("serve", model, "--kv-cache-memory", "40KiB", "--port", "0", "--grpc-port", "-1"),
                "fewer than one full context of 512 tokens", "--kv-cache-memory to at least 640.0KiB", "--max-model-len to 32 or less");
    }

    @Test
    void aMissingModelIsNamed() {
        assertOneLineError(run("serve", "/no/such/dir/model.bin", "--port", "0"), "/no/such/dir/model.bin", "no such file");
        assertOneLineError(run("serve", "no-such-owner-xyz/no-such-model", "--offline", "--port", "0"),
                "no-such-owner-xyz/no-such-model", "offline");
    }

    @Test
    void helpListsTheOptions() {
        CliTest.Run r = run("serve", "--help");
        assertEquals(0, r.exitCode(), r.err());
        for (String o : new String[] {"--host", "--port", "--grpc-port", "--backend", "--served-model-name", "--max-num-seqs",
                "--max-num-batched-tokens", "--kv-cache-memory", "--max-queue", "--request-timeout", "--api-key", "--offline",
                "--tokenizer", "--shutdown-grace", "--max-model-len", "--threads", "--metrics-names", "--chat-template",
                "--tool-call-parser"}) {
            assertTrue(r.out().contains(o), o + " missing from --help:\n" + r.out());
        }
        // --backend names its choices: every installed backend.
        String help = r.out().replaceAll("\\s+", " ");
        String backends = help.substring(help.indexOf("Backend that runs the model: "), help.indexOf("(default: cpu)"));
        for (String b : io.basalt.backend.Backends.names()) assertTrue(backends.contains(b), b + " not in: " + backends);
        assertTrue(backends.contains("torch"), backends);
    }

    @Test
    void sizesAndDurations() {
        assertEquals(512L << 20, ServeCommand.parseBytes("x", "512MiB"));
        assertEquals(2L << 30, ServeCommand.parseBytes("x", "2GiB"));
        assertEquals(2L << 30, ServeCommand.parseBytes("x", "2g"));
        assertEquals(1_500_000_000L, ServeCommand.parseBytes("x", "1.5GB"));
        assertEquals(123456L, ServeCommand.parseBytes("x", "123456"));
        assertThrows(IllegalArgumentException.class, () -> ServeCommand.parseBytes("x", "0"));
        assertThrows(IllegalArgumentException.class, () -> ServeCommand.parseBytes("x", "lots"));
        assertEquals(Duration.ofSeconds(300), ServeCommand.parseDuration("x", "300s"));
        assertEquals(Duration.ofMinutes(5), ServeCommand.parseDuration("x", "5m"));
        assertEquals(Duration.ofMillis(250), ServeCommand.parseDuration("x", "250ms"));
        assertEquals(Duration.ofSeconds(30), ServeCommand.parseDuration("x", "30"));
        assertEquals(Duration.ZERO, ServeCommand.parseDuration("x", "0"));
        assertEquals(Duration.ofHours(1), ServeCommand.parseDuration("x", "1h"));
        assertEquals(Duration.ofMinutes(2), ServeCommand.parseDuration("x", "PT2M"));
    }
}
