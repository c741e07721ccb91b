package org.tribuopeft.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.CodedInputStream;
import ai.onnx.proto.OnnxMl;
import org.tribuopeft.adapters.backbone.TextTokenizer;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.OnnxRuntimeVersion;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.io.OutputLocation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Java half of the Python cross-check of exported ONNX files: tokenizes UTF-8 texts (one per line)
 * with the tokenizer stored in the first file's metadata, runs every given file in Java's ONNX Runtime on
 * the CPU, and writes the token ids and each file's {@code logits} as JSON, which
 * {@code peft-python/onnx_quantized.py} feeds to Python's ONNX Runtime and compares.
 *
 * <p>{@code java -cp app/target/tribuo-peft.jar org.tribuopeft.cli.OnnxLogitsDump TEXTS.txt OUT.json A.onnx [B.onnx ...]}
 */
public final class OnnxLogitsDump {
    private OnnxLogitsDump() {}

    /** Writes the JSON described in the class documentation; exits 2 on bad arguments. */
    public static void main(String[] args) throws IOException, OrtException {
        if (args.length < 3) {
            System.err.println("usage: OnnxLogitsDump TEXTS.txt OUT.json A.onnx [B.onnx ...]");
            System.exit(2);
        }
        Path out = Paths.get(args[1]);
        OutputLocation.checkFile(out, false);
        List<String> texts = Files.readAllLines(Paths.get(args[0]), StandardCharsets.UTF_8).stream()
                .filter(s -> !s.isBlank()).toList();
        Map<String, String> meta = metadata(Paths.get(args[2]));
        TokenBatch batch;
        try (TextTokenizer tokenizer = TextTokenizer.fromJson(meta.get("tribuo_peft.tokenizer").getBytes(
                StandardCharsets.UTF_8), Integer.parseInt(meta.get("tribuo_peft.max_length")), args[2])) {
            batch = tokenizer.encode(texts);
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("onnxruntime_java", OnnxRuntimeVersion.onClasspath());
        root.set("input_ids", json.valueToTree(batch.ids()));
        root.set("attention_mask", json.valueToTree(batch.attentionMask()));
        root.set("token_type_ids", json.valueToTree(batch.typeIds()));
        ObjectNode logits = root.putObject("logits");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (int i = 2; i < args.length; i++) {
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                 OrtSession s = env.createSession(args[i], o);
                 OnnxTensor ids = OnnxTensor.createTensor(env, batch.ids());
                 OnnxTensor mask = OnnxTensor.createTensor(env, batch.attentionMask());
                 OnnxTensor types = OnnxTensor.createTensor(env, batch.typeIds());
                 OrtSession.Result r = s.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types),
                         Set.of("logits"))) {
                logits.set(Paths.get(args[i]).getFileName().toString(), json.valueToTree(r.get("logits").orElseThrow()
                        .getValue()));
            }
        }
        AtomicFiles.write(out, stream -> stream.write(json.writerWithDefaultPrettyPrinter().writeValueAsBytes(root)));
        System.out.println("wrote " + out.toAbsolutePath());
    }

    private static Map<String, String> metadata(Path file) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(Files.readAllBytes(file));
        in.setSizeLimit(Integer.MAX_VALUE);
        Map<String, String> meta = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(in).getMetadataPropsList().forEach(e -> meta.put(e.getKey(), e.getValue()));
        return meta;
    }
}
