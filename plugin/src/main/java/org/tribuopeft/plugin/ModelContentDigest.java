package org.tribuopeft.plugin;

import com.google.protobuf.ByteString;
import org.tribuopeft.plugin.protos.AdapterModelProto;
import org.tribuopeft.plugin.protos.BackboneReferenceProto;
import org.tribuopeft.plugin.protos.RankMaskProto;
import org.tribuopeft.plugin.protos.TensorProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * The SHA-256 of everything a saved {@link AdapterModel} predicts with: the trained tensors (sorted by name, each
 * with its shape and little-endian float32 bytes), the method settings, AdaLoRA's rank masks, the head's task and
 * width, the text settings, the base model reference and Tribuo's metadata (output order, provenance). Each value
 * is length-prefixed, so no two different contents feed the same bytes. Computed from the protobuf message
 * itself, so saving and loading hash exactly the same bytes.
 */
final class ModelContentDigest {
    /** Changes whenever the fed fields change, so an old digest never verifies against new rules. */
    private static final String SCHEME = "tribuo-peft AdapterModel content v1";

    private final MessageDigest sha;

    private ModelContentDigest() {
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** The hex SHA-256 of {@code p}'s content, ignoring its {@code content_sha256} field. */
    static String of(AdapterModelProto p) {
        ModelContentDigest d = new ModelContentDigest();
        d.text(SCHEME);
        d.bytes(p.getMetadata());
        BackboneReferenceProto b = p.getBackbone();
        for (String s : List.of(b.getKind(), b.getLocation(), b.getTokenizerLocation(), b.getWeightsSha256(),
                b.getTokenizerSha256(), b.getPooling(), b.getMavenCoordinates())) {
            d.text(s);
        }
        d.text(p.getMethodProvenanceJson());
        d.text(p.getTask());
        d.number(p.getOutputs());
        d.number(p.getMaxLength());
        d.text(p.getTextField());
        d.number(p.getPredictBatchSize());
        List<TensorProto> tensors = p.getTensorsList().stream().sorted(Comparator.comparing(TensorProto::getName))
                .toList();
        d.number(tensors.size());
        for (TensorProto t : tensors) {
            d.text(t.getName());
            d.number(t.getShapeCount());
            t.getShapeList().forEach(d::number);
            d.bytes(t.getData());
        }
        List<RankMaskProto> masks = p.getRankMasksList().stream()
                .sorted(Comparator.comparing(RankMaskProto::getModule)).toList();
        d.number(masks.size());
        for (RankMaskProto m : masks) {
            d.text(m.getModule());
            d.number(m.getKeptCount());
            byte[] kept = new byte[m.getKeptCount()];
            for (int i = 0; i < kept.length; i++) {
                kept[i] = (byte) (m.getKept(i) ? 1 : 0);
            }
            d.sha.update(kept);
        }
        // fed only when present, so the digests of float32-base files saved before the field existed still verify
        if (!p.getQuantizationProvenanceJson().isEmpty()) {
            d.text("quantization");
            d.text(p.getQuantizationProvenanceJson());
        }
        return HexFormat.of().formatHex(d.sha.digest());
    }

    private void number(long v) {
        sha.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    private void text(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        number(utf8.length);
        sha.update(utf8);
    }

    private void bytes(ByteString b) {
        number(b.size());
        sha.update(b.asReadOnlyByteBuffer());
    }
}
