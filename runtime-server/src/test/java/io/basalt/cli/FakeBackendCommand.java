package io.basalt.cli;

import io.basalt.backend.BackendCommand;
import java.io.PrintStream;
import java.util.List;

/** A backend command registered in the test resources: echoes what it was given and exits with a chosen status. */
public final class FakeBackendCommand implements BackendCommand {
    @Override
    public String name() { return "fakeaccel"; }

    @Override
    public String description() { return "Tools of the fake accelerator (test only)."; }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        out.println("args=" + args);
        out.print("héllo ✓");
        out.flush();
        if (args.contains("--fail")) {
            err.println("basalt: fakeaccel failed");
            return 2;
        }
        return 0;
    }
}
