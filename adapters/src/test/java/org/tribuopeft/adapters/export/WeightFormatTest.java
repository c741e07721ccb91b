package org.tribuopeft.adapters.export;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The weight format's written form and the block sizes ONNX Runtime's MatMulNBits accepts. */
class WeightFormatTest {

    @Test
    void writtenFormsReadBackToTheSameFormat() {
        for (String s : new String[] {"float32", "int8:32", "int4:16", "int4:64", "int4:128:symmetric",
            "int8:256:int8-compute", "int4:32:symmetric:int8-compute"}) {
            assertEquals(s, WeightFormat.parse(s).toString());
        }
        assertEquals(new WeightFormat(4, 32, true, false), WeightFormat.parse("int4"));
        assertEquals(WeightFormat.FLOAT32, WeightFormat.parse("FP32"));
        assertEquals(4, WeightFormat.parse("int4:64:int8-compute").accuracyLevel());
        assertEquals(0, WeightFormat.parse("int4:64").accuracyLevel());
    }

    @Test
    void blockSizesOtherThanPowersOfTwoFromSixteenToTwoHundredFiftySixAreRefusedByValue() {
        for (String bad : new String[] {"48", "8", "0", "512", "100"}) {
            WeightFormatException e = assertThrows(WeightFormatException.class, () -> WeightFormat.parse("int4:" + bad));
            assertEquals("block size " + bad + " is not supported by ONNX Runtime's MatMulNBits: use a power of two "
                    + "from 16 to 256 (16, 32, 64, 128 or 256)", e.getMessage());
        }
        assertTrue(assertThrows(WeightFormatException.class, () -> WeightFormat.parse("int4:99999999999"))
                .getMessage().contains("99999999999"));
    }

    @Test
    void unknownNamesAndOptionsAreRefusedWithTheAcceptedForms() {
        assertTrue(assertThrows(WeightFormatException.class, () -> WeightFormat.parse("int3")).getMessage()
                .startsWith("unknown weight format 'int3': use float32, int8[:BLOCK] or int4[:BLOCK]"));
        assertTrue(assertThrows(WeightFormatException.class, () -> WeightFormat.parse("int4:64:fast")).getMessage()
                .contains("'fast' is neither a block size"));
        assertTrue(assertThrows(WeightFormatException.class, () -> WeightFormat.parse("float32:32")).getMessage()
                .contains("float32 takes no block size"));
    }
}
