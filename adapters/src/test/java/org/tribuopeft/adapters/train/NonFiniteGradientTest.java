package org.tribuopeft.adapters.train;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.testing.EngineTestBase;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The divergence check finds the parameter whose gradient is not finite. */
class NonFiniteGradientTest extends EngineTestBase {

    private Parameter parameter(String name, float[] inputs, Map<String, NDArray> xs) {
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
        NDArray w = manager.ones(new ai.djl.ndarray.types.Shape(inputs.length));
        w.setRequiresGradient(true);
        p.setArray(w);
        xs.put(name, manager.create(inputs));
        return p;
    }

    private Map<String, Parameter> withGradients(float[] first, float[] second) {
        Map<String, NDArray> xs = new LinkedHashMap<>();
        Map<String, Parameter> params = new LinkedHashMap<>();
        params.put("encoder.layer.0.attention.self.query.lora_A.weight", parameter("a", first, xs));
        params.put("classifier.weight", parameter("b", second, xs));
        try (GradientCollector gc = TorchRuntime.engine().newGradientCollector()) {
            NDArray y = params.get("encoder.layer.0.attention.self.query.lora_A.weight").getArray().mul(xs.get("a"))
                    .sum().add(params.get("classifier.weight").getArray().mul(xs.get("b")).sum());
            gc.backward(y);
        }
        return params;
    }

    @Test
    void theFirstParameterWithANonFiniteGradientIsNamed() {
        assertEquals("classifier.weight",
                FineTuner.firstNonFinite(withGradients(new float[] {1, 2}, new float[] {3, Float.POSITIVE_INFINITY})));
        assertEquals("encoder.layer.0.attention.self.query.lora_A.weight",
                FineTuner.firstNonFinite(withGradients(new float[] {Float.NaN, 2}, new float[] {3, Float.NaN})));
    }

    @Test
    void finiteGradientsNameNoParameter() {
        assertNull(FineTuner.firstNonFinite(withGradients(new float[] {1, 2}, new float[] {3, 4})));
    }
}
