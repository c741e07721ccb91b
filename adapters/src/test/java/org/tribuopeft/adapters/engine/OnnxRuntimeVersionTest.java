package org.tribuopeft.adapters.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The ONNX Runtime check refuses an older runtime (tribuo-onnx's 1.20.0) with both versions and the fix. */
class OnnxRuntimeVersionTest {

    @Test
    void tribuoOnnxPinnedRuntimeIsRefusedNamingBothVersionsAndTheFix() {
        OnnxRuntimeVersionException e = assertThrows(OnnxRuntimeVersionException.class,
                () -> OnnxRuntimeVersion.check("1.20.0", "1.29.0", "file:/m2/onnxruntime-1.20.0.jar"));
        assertEquals("ONNX Runtime 1.20.0 is on the classpath (file:/m2/onnxruntime-1.20.0.jar) but tribuo-peft"
                + " needs 1.29.0 or newer. Another dependency chose the older version; Tribuo's tribuo-onnx 4.3.2"
                + " pins 1.20.0. Declare com.microsoft.onnxruntime:onnxruntime:1.29.0 (or onnxruntime_gpu) directly"
                + " in your project's dependencies, or exclude com.microsoft.onnxruntime from tribuo-onnx.",
                e.getMessage());
    }

    @Test
    void versionsCompareByNumberNotByText() {
        assertThrows(OnnxRuntimeVersionException.class, () -> OnnxRuntimeVersion.check("1.9.0", "1.29.0", "x"));
        assertThrows(OnnxRuntimeVersionException.class, () -> OnnxRuntimeVersion.check("1.29", "1.29.1", "x"));
        assertDoesNotThrow(() -> OnnxRuntimeVersion.check("1.100.0", "1.29.0", "x"));
        assertDoesNotThrow(() -> OnnxRuntimeVersion.check("2.0.0-rc1", "1.29.0", "x"));
    }

    @Test
    void sameOrNewerOrUnknownRuntimePasses() {
        assertDoesNotThrow(() -> OnnxRuntimeVersion.check("1.29.0", "1.29.0", "x"));
        assertDoesNotThrow(() -> OnnxRuntimeVersion.check("1.30.1", "1.29.0", "x"));
        assertDoesNotThrow(() -> OnnxRuntimeVersion.check(null, "1.29.0", "x"));
    }

    @Test
    void theBuiltRequirementIsTheRuntimeThisBuildPutsOnTheClasspath() {
        assertEquals(OnnxRuntimeVersion.onClasspath(), OnnxRuntimeVersion.required());
        assertDoesNotThrow(OnnxRuntimeVersion::requireSupported);
    }
}
