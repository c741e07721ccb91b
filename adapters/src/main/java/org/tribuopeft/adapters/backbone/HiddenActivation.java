package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import org.tribuopeft.adapters.engine.Scalars;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** The feed-forward activation of a BERT layer, named as in a Hugging Face {@code config.json}. */
public enum HiddenActivation {
    /** Exact GELU, {@code x·Φ(x)} with the error function (BERT, MiniLM, BGE). */
    GELU("gelu"),
    /** GELU's tanh approximation ({@code gelu_new}, {@code gelu_pytorch_tanh}). */
    GELU_TANH("gelu_new"),
    /** max(0, x). */
    RELU("relu");

    private final String hfName;

    HiddenActivation(String hfName) {
        this.hfName = hfName;
    }

    /** The name written to {@code config.json}'s {@code hidden_act}. */
    public String hfName() {
        return hfName;
    }

    /** Applies the activation element-wise. */
    public NDArray apply(NDArray x) {
        return switch (this) {
            case GELU -> Activation.gelu(x);
            case GELU_TANH -> geluTanh(x);
            case RELU -> Activation.relu(x);
        };
    }

    private static NDArray geluTanh(NDArray x) {
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        NDArray inner = Scalars.mul(Scalars.mul(Scalars.pow(x, 3), 0.044715f).add(x), (float) Math.sqrt(2.0 / Math.PI));
        return Scalars.mul(Scalars.add(inner.tanh(), 1f).mul(x), 0.5f);
    }

    /** Parses a {@code hidden_act} value; empty when it is not one we implement. */
    public static Optional<HiddenActivation> fromHfName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return switch (n) {
            case "gelu" -> Optional.of(GELU);
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> Optional.of(GELU_TANH);
            case "relu" -> Optional.of(RELU);
            default -> Optional.empty();
        };
    }

    /** The accepted {@code hidden_act} names, for error messages. */
    public static String acceptedNames() {
        return Arrays.toString(new String[] {"gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu"});
    }
}
