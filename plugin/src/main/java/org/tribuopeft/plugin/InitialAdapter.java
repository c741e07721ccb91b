package org.tribuopeft.plugin;

import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Output;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.io.Sha256;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PeftAdapterReader;
import org.tribuopeft.adapters.peft.PeftAdapterWriter;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.TaskHead;
import org.tribuopeft.adapters.train.TextModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The PEFT adapter folder a trainer continues from ({@code initialAdapter}): its weights go into a freshly built
 * model, and its checksum into the trainer's provenance.
 *
 * @param folder the adapter folder
 * @param method the trainer's method, which the adapter's settings must equal
 */
record InitialAdapter(Path folder, AdapterMethod method) {

    /** SHA-256 of the adapter's weights file, as recorded in the trainer's provenance. */
    String weightsSha256() {
        Path w = folder.resolve(PeftAdapterWriter.WEIGHTS);
        try {
            return Sha256.ofFile(w);
        } catch (IOException e) {
            throw new UncheckedIOException("initialAdapter: cannot read " + w + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads the adapter into a freshly built model: every encoder tensor, and the head when the folder's outputs
     * are the dataset's outputs in the same order. The adapter's settings must be the configured method's, so that
     * what trains is what the configuration says.
     *
     * @throws IllegalArgumentException naming the folder and what does not fit
     */
    <T extends Output<T>> void loadInto(TextModel model, Backbone base, ImmutableOutputInfo<T> outputInfo) {
        try {
            load(model, base, outputInfo);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("initialAdapter " + folder + ": " + e.getMessage(), e);
        }
    }

    private <T extends Output<T>> void load(TextModel model, Backbone base, ImmutableOutputInfo<T> outputInfo)
            throws IOException {
        PeftAdapter adapter = PeftAdapterReader.read(folder, base.config());
        var wanted = method.getProvenance();
        var found = adapter.method().getProvenance();
        if (!wanted.getClassName().equals(found.getClassName())
                || !wanted.getConfiguredParameters().equals(found.getConfiguredParameters())) {
            throw new IllegalArgumentException("its settings " + adapter.method() + " differ from the method component "
                    + method + "; configure the method to match the adapter");
        }
        TextModel.Snapshot current = model.snapshot();
        Map<String, HostTensor> values = new LinkedHashMap<>(current.values());
        for (String name : current.values().keySet()) {
            if (!name.startsWith(TaskHead.MODULE_NAME + ".") && adapter.tensors().containsKey(name)) {
                values.put(name, adapter.tensors().get(name));
            }
        }
        Path sidecar = folder.resolve(AdapterExports.SIDECAR);
        if (adapter.tensors().containsKey("classifier.weight") && Files.exists(sidecar)) {
            if (AdapterExports.outputs(AdapterExports.readSidecar(folder)).equals(HeadOutputs.names(outputInfo))) {
                values.put("classifier.weight", adapter.tensors().get("classifier.weight"));
                values.put("classifier.bias", adapter.tensors().get("classifier.bias"));
            }
        }
        Map<String, boolean[]> masks = new LinkedHashMap<>(current.rankMasks());
        masks.putAll(adapter.rankMasks());
        model.restore(new TextModel.Snapshot(values, masks));
    }
}
