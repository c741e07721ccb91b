package org.tribuopeft.adapters.method;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each method kind names the configuration class that really is that method. */
class MethodKindTest {

    @Test
    void everyKindNamesAConfigClassOfThatKind() throws Exception {
        for (MethodKind k : MethodKind.values()) {
            Class<?> c = Class.forName(k.configClassName());
            assertTrue(AdapterMethod.class.isAssignableFrom(c), c + " is not an AdapterMethod");
            Constructor<?> ctor = c.getDeclaredConstructor();
            ctor.setAccessible(true);
            assertEquals(k, ((AdapterMethod) ctor.newInstance()).kind(), k.configClassName());
        }
    }
}
