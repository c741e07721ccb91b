package org.tribuopeft.adapters.peft;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.testing.TinyBert;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A folder of a method that no registered descriptor reads is refused, naming the file and the registered types. */
class PeftUnknownTypeTest {

    @Test
    void unknownPeftTypeIsRefusedWithTheRegisteredTypes(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(PeftAdapterWriter.CONFIG), "{\"peft_type\": \"BOFT\", \"r\": 8}");
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> PeftAdapterReader.read(dir, TinyBert.config()));
        assertEquals(dir.resolve(PeftAdapterWriter.CONFIG) + ": peft_type 'BOFT' is not supported; the registered types "
                + "are " + registeredTypes() + " (methods " + MethodRegistry.names() + ")", e.getMessage());
    }

    private static java.util.Set<String> registeredTypes() {
        java.util.Set<String> types = new java.util.TreeSet<>();
        MethodRegistry.all().forEach(d -> d.peftForm().ifPresent(f -> types.add(f.peftType())));
        return types;
    }
}
