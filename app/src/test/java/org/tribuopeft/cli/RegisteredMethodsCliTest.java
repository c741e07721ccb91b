package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.method.MethodRegistry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI's help and {@code benchmark --methods} come from the method registry, not from a hand-kept list. */
class RegisteredMethodsCliTest {

    @Test
    void helpListsEveryRegisteredMethodWithItsConfigurationClass() {
        String usage = TribuoPeftCli.usage();
        assertTrue(usage.contains("benchmark [--methods " + String.join(",", MethodRegistry.names()) + "]"), usage);
        for (MethodDescriptor d : MethodRegistry.all()) {
            assertTrue(usage.contains(d.name()) && usage.contains(d.configClass().getName() + ": " + d.summary()),
                    d.name() + " missing from\n" + usage);
        }
        assertTrue(usage.contains("vera") && usage.contains("org.tribuopeft.adapters.vera.VeraConfig"), usage);
    }

    @Test
    void benchmarkFindsEachRegisteredMethodAndRefusesAnUnknownOneWithTheRegisteredNames() {
        for (MethodDescriptor d : MethodRegistry.all()) {
            assertSame(d, MethodBenchmark.method(" " + d.name()));
        }
        CliException e = assertThrows(CliException.class, () -> MethodBenchmark.method("qlora"));
        assertEquals("--methods: unknown method 'qlora'; the registered methods are " + MethodRegistry.names(),
                e.getMessage());
    }
}
