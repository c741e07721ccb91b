package org.tribuopeft.adapters.prefix;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.AttentionPrefix;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PEFT's {@code PrefixEncoder}: the per-layer prefix keys and values as one table [count, layers·2·hidden], or,
 * with the prefix projection, a table [count, hidden] sent through {@code Linear → tanh → Linear} to that width.
 * Its row layout is PEFT's: for virtual token n, layer l, keys (0) or values (1) kv, the hidden slice at
 * {@code (2l + kv)·hidden}. The table (and the projection's last bias) are kept in PEFT's view of it,
 * [count, layers, 2, heads, headSize] ([layers, 2, heads, headSize] for the bias), so that the saved tensors
 * say the layer count, width and heads they were made for.
 */
final class PrefixEncoder implements AttentionPrefix {
    private final int layers;
    private final int hidden;
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();

    /**
     * @param layers the encoder's layer count
     * @param hidden the encoder's hidden size
     * @param tensors the initial values by name: {@link PrefixTuningConfig#PROMPT_EMBEDDINGS} alone, or the five
     *     projection tensors of {@link PrefixTuningConfig#PROJECTION_NAMES}
     */
    PrefixEncoder(int layers, int hidden, Map<String, NDArray> tensors) {
        this.layers = layers;
        this.hidden = hidden;
        tensors.forEach((name, value) -> {
            Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
            p.setArray(value);
            parameters.put(name, p);
        });
    }

    Map<String, Parameter> parameters() {
        return parameters;
    }

    private boolean projected() {
        return !parameters.containsKey(PrefixTuningConfig.PROMPT_EMBEDDINGS);
    }

    @Override
    public int count() {
        String table = projected() ? PrefixTuningConfig.PROJECTION_NAMES.get(0) : PrefixTuningConfig.PROMPT_EMBEDDINGS;
        return (int) parameters.get(table).getArray().getShape().get(0);
    }

    /** The past keys and values as PEFT saves them, [count, layers·2·hidden]. */
    NDArray flat(ParameterStore ps, Device device, boolean training) {
        int width = layers * 2 * hidden;
        if (!projected()) {
            return value(ps, PrefixTuningConfig.PROMPT_EMBEDDINGS, device, training).reshape(count(), width);
        }
        NDArray x = value(ps, PrefixTuningConfig.PROJECTION_NAMES.get(0), device, training);
        NDArray h = x.matMul(value(ps, PrefixTuningConfig.PROJECTION_NAMES.get(1), device, training).transpose())
                .add(value(ps, PrefixTuningConfig.PROJECTION_NAMES.get(2), device, training)).tanh();
        return h.matMul(value(ps, PrefixTuningConfig.PROJECTION_NAMES.get(3), device, training).transpose())
                .add(value(ps, PrefixTuningConfig.PROJECTION_NAMES.get(4), device, training).reshape(width));
    }

    private NDArray value(ParameterStore ps, String name, Device device, boolean training) {
        return ps.getValue(parameters.get(name), device, training);
    }

    @Override
    public NDArray keysAndValues(ParameterStore ps, Device device, boolean training) {
        int n = count();
        return flat(ps, device, training).reshape(n, layers, 2, hidden).transpose(1, 2, 0, 3);
    }
}
