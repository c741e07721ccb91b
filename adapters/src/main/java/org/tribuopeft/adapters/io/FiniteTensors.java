package org.tribuopeft.adapters.io;

import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Refuses loaded weights that hold NaN or infinity. A trained model never saves such values (training stops
 * when its loss diverges), so one in a file means the file is damaged; finding it at load time names the
 * tensor, instead of letting it surface later as "training diverged" or as garbage predictions.
 */
public final class FiniteTensors {
    private FiniteTensors() {}

    /** The index of the first NaN or infinite value in {@code t}, or -1 when every value is finite. */
    public static int firstNonFinite(HostTensor t) {
        float[] v = t.data();
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                return i;
            }
        }
        return -1;
    }

    /**
     * What is wrong with tensor {@code name}, as a sentence fragment, or null when it is all finite.
     *
     * @param name the tensor's name in the file
     * @param t its values
     */
    public static String problem(String name, HostTensor t) {
        int i = firstNonFinite(t);
        if (i < 0) {
            return null;
        }
        return "tensor '" + name + "' holds " + t.data()[i] + " at index " + i + " (of " + t.data().length
                + " values, shape " + Arrays.toString(t.shape()) + "); trained weights are always finite, so the "
                + "file is corrupted: use an intact copy or train again";
    }

    /**
     * Checks every tensor read from {@code file}.
     *
     * @throws ModelFileException naming the file and the first tensor that holds NaN or infinity
     */
    public static void require(Path file, Map<String, HostTensor> tensors) throws ModelFileException {
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            String problem = problem(e.getKey(), e.getValue());
            if (problem != null) {
                throw new ModelFileException(file, problem);
            }
        }
    }
}
