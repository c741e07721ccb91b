package org.tribuopeft.adapters.backbone;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/** Runs a bundled ONNX encoder in ONNX Runtime: the reference our DJL forward pass must match. */
final class OnnxRuntimeReference implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    OnnxRuntimeReference(BundledModel model) throws IOException, OrtException {
        byte[] bytes;
        try (InputStream in = BundledModel.open(model.onnxResource())) {
            bytes = in.readAllBytes();
        }
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(2);
            session = env.createSession(bytes, opts);
        }
    }

    /** last_hidden_state [batch][tokens][hidden] for a tokenized batch. */
    float[][][] lastHiddenState(TokenBatch batch) throws OrtException {
        try (OnnxTensor ids = OnnxTensor.createTensor(env, batch.ids());
             OnnxTensor mask = OnnxTensor.createTensor(env, batch.attentionMask());
             OnnxTensor types = OnnxTensor.createTensor(env, batch.typeIds());
             OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask,
                     "token_type_ids", types))) {
            return (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
