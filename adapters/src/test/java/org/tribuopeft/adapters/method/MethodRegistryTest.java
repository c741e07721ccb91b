package org.tribuopeft.adapters.method;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The registry finds every method package's descriptor and refuses what is not registered, by name. */
class MethodRegistryTest {

    @Test
    void registersTheBuiltInMethodsInOrder() {
        assertEquals(List.of("lora", "dora", "adalora", "full"), MethodRegistry.names().subList(0, 4));
    }

    @Test
    void everyDescriptorDescribesADefaultInstanceOfItsConfigClass() throws Exception {
        for (MethodDescriptor d : MethodRegistry.all()) {
            Constructor<? extends AdapterMethod> ctor = d.configClass().getDeclaredConstructor();
            ctor.setAccessible(true);
            AdapterMethod m = ctor.newInstance();
            assertSame(d, m.descriptor(), d.name());
            assertSame(d, MethodRegistry.byName(d.name().toUpperCase(java.util.Locale.ROOT)));
        }
    }

    @Test
    void aSubclassIsNotMistakenForItsParentMethod() {
        assertEquals("dora", new org.tribuopeft.adapters.dora.DoraConfig().descriptor().name());
        assertEquals("lora", new org.tribuopeft.adapters.lora.LoraConfig().descriptor().name());
    }

    @Test
    void anUnknownNameIsRefusedWithTheRegisteredNames() {
        UnknownMethodException e = assertThrows(UnknownMethodException.class, () -> MethodRegistry.byName("qlora"));
        assertEquals("unknown method 'qlora'; the registered methods are " + MethodRegistry.names(), e.getMessage());
    }

    @Test
    void anUnregisteredMethodClassIsRefusedByName() {
        AdapterMethod stray = new org.tribuopeft.adapters.lora.LoraConfig() { };
        UnknownMethodException e = assertThrows(UnknownMethodException.class, stray::descriptor);
        assertEquals("method class " + stray.getClass().getName() + " is not registered (add it to "
                + "META-INF/services/org.tribuopeft.adapters.method.MethodDescriptor); the registered methods are "
                + MethodRegistry.names(), e.getMessage());
    }
}
