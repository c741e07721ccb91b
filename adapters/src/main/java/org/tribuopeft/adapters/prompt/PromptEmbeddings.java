package org.tribuopeft.adapters.prompt;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.VirtualTokens;

/** The trainable virtual-token embeddings of prompt tuning, [numVirtualTokens, hidden]. */
final class PromptEmbeddings implements VirtualTokens {
    private final Parameter embeddings;

    PromptEmbeddings(NDArray init) {
        this.embeddings = Parameter.builder().setName(PromptTuningConfig.PROMPT_EMBEDDINGS)
                .setType(Parameter.Type.WEIGHT).build();
        embeddings.setArray(init);
    }

    Parameter parameter() {
        return embeddings;
    }

    @Override
    public int count() {
        return (int) embeddings.getArray().getShape().get(0);
    }

    @Override
    public NDArray embeddings(ParameterStore ps, Device device, boolean training) {
        return ps.getValue(embeddings, device, training);
    }
}
