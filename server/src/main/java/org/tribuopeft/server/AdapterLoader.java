package org.tribuopeft.server;

import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.engine.NoGradientScope;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.mixed.SharedBase;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.plugin.AdapterDirectory;
import org.tribuopeft.plugin.AdapterModel;

import java.io.IOException;
import java.util.SplittableRandom;

/**
 * Turns an adapter file into a {@link LoadedAdapter}: reads a {@code model.tribuo} or a PEFT folder (with its
 * {@code tribuo_peft.json}), checks that it was trained on the served base with the same pooling and that its
 * method leaves the base unchanged, and builds its model on the shared base. Every refusal is a 422 naming the
 * file and the reason.
 */
final class AdapterLoader {
    private final SharedBase base;
    private final String baseSpec;
    private final String baseSha256;
    private final Batching batching;

    AdapterLoader(SharedBase base, String baseSpec, String baseSha256, Batching batching) {
        this.base = base;
        this.baseSpec = baseSpec;
        this.baseSha256 = baseSha256;
        this.batching = batching;
    }

    LoadedAdapter load(AdapterDirectory.Entry entry) {
        AdapterModel<?> am;
        try {
            am = AdapterDirectory.load(entry, baseSpec);
        } catch (ModelFileException e) {
            throw unusable(entry, e.getMessage());
        } catch (IOException | RuntimeException e) {
            throw unusable(entry, entry.path() + ": " + e.getMessage());
        }
        if (!am.backboneReference().weightsSha256().equals(baseSha256)) {
            throw unusable(entry, "it was trained on a different base model (weights SHA-256 "
                    + am.backboneReference().weightsSha256() + ", this server's base is " + baseSha256 + ")");
        }
        if (am.backboneReference().pooling() != base.backbone().pooling()) {
            throw unusable(entry, "it pools with " + am.backboneReference().pooling() + " but this server's base pools "
                    + "with " + base.backbone().pooling() + "; start a server with that pooling for it");
        }
        if (!java.util.Objects.equals(am.quantization(), base.quantization())) {
            throw unusable(entry, "it was trained on a base stored as " + storage(am.quantization())
                    + " but this server's base is stored as " + storage(base.quantization())
                    + "; serve it from a server whose base is stored the same way");
        }
        TextModel.baseChange(am.method()).ifPresent(why -> {
            throw unusable(entry, "its method " + why + ", so it cannot share the base; serve it on its own");
        });
        int width = am.outputNames().size();
        TextModel.Snapshot snapshot = new TextModel.Snapshot(am.trainedTensors(), am.rankMasks());
        // building and restoring copy into parameters in place, which autograd (on in new threads) refuses
        try (NoGradientScope noGrad = new NoGradientScope()) {
            TextModel model;
            long bytes;
            if (batching == Batching.MERGED) {
                Backbone backbone = base.backbone();
                model = TextModel.create(backbone, am.method(), am.task(), width, am.maxLength(), new SplittableRandom(0));
                try {
                    model.restore(snapshot);
                    model.adapted().merge();
                } catch (RuntimeException e) {
                    model.close();
                    throw e;
                }
                bytes = model.adapterBytes() + base.baseBytes();
            } else {
                model = base.adapterModel(am.method(), am.task(), width, am.maxLength(), new SplittableRandom(0));
                try {
                    model.restore(snapshot);
                } catch (RuntimeException e) {
                    model.close();
                    throw e;
                }
                bytes = model.adapterBytes();
            }
            return new LoadedAdapter(entry.id(), am.methodDescriptor().name(), am.task(), am.outputNames(), model, bytes,
                    entry.path().toString());
        } catch (HttpStatusException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw unusable(entry, e.getMessage());
        }
    }

    private static HttpStatusException unusable(AdapterDirectory.Entry entry, String why) {
        return new HttpStatusException(422, "adapter '" + entry.id() + "' (" + entry.path() + ") cannot be served: "
                + why);
    }

    private static String storage(org.tribuopeft.adapters.quant.BaseQuantization q) {
        return q == null ? "float32" : q.toString();
    }
}
