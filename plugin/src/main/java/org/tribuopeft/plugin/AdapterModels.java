package org.tribuopeft.plugin;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import org.tribuo.Model;
import org.tribuo.protos.core.ModelProto;
import org.tribuopeft.adapters.io.ModelFileException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Loads saved Tribuo models ({@code model.tribuo}) so that every failure names the file, says what is wrong with
 * it and what to do. Tribuo's own {@code Model.deserializeFromFile} hides the cause behind "the deserialization
 * method threw an exception" and reports damaged files with bare protobuf messages; this loader checks the file
 * itself first and, when Tribuo fails, reports the root cause (a content checksum mismatch, a different or missing
 * base model, a damaged tensor).
 */
public final class AdapterModels {
    /** What protobuf says when the bytes end inside a field; the text is part of protobuf-java's stable API. */
    private static final String ENDED_INSIDE_A_FIELD = "input ended unexpectedly";
    private static final Pattern CLASS_NAME = Pattern.compile("[A-Za-z_$][\\w$]*(\\.[A-Za-z_$][\\w$]*)+");

    private AdapterModels() {}

    /**
     * Loads any Tribuo model from a file written by {@code Model.serializeToFile} (or {@code train --output}).
     *
     * @throws ModelFileException naming the file and the root cause: missing, empty, truncated, not a Tribuo
     *     model, a model class that is not on the classpath, damaged or edited contents, or a base model that is
     *     missing or differs
     */
    public static Model<?> load(Path file) throws ModelFileException {
        byte[] bytes = read(file);
        ModelProto proto;
        try {
            proto = ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new ModelFileException(file, unparseable(bytes, e), e);
        }
        if (proto.getClassName().isEmpty()) {
            throw new ModelFileException(file, "is not a Tribuo model file: it names no model class (a model file is "
                    + "the model.tribuo that 'train --output' or Model.serializeToFile writes)");
        }
        checkModelClass(file, proto.getClassName());
        if (!proto.hasSerializedData()) {
            throw new ModelFileException(file, "is a damaged " + proto.getClassName() + " file (" + bytes.length
                    + " bytes): it ends before the model data, so it was truncated (an interrupted save, copy or "
                    + "download); copy it again or train again");
        }
        try {
            return Model.deserialize(proto);
        } catch (RuntimeException e) {
            throw explain(file, e);
        }
    }

    /**
     * Loads a model that must be an {@link AdapterModel}.
     *
     * @throws ModelFileException as {@link #load(Path)}, or naming the class of a Tribuo model of another kind
     */
    public static AdapterModel<?> loadAdapterModel(Path file) throws ModelFileException {
        Model<?> m = load(file);
        if (m instanceof AdapterModel<?> am) {
            return am;
        }
        if (m instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // the model is discarded either way; the error below is what the caller needs
            }
        }
        throw new ModelFileException(file, "holds a " + m.getClass().getName() + " (a Tribuo model of another kind), "
                + "not an AdapterModel; this needs a model trained by tribuo-peft's AdapterTrainer");
    }

    private static byte[] read(Path file) throws ModelFileException {
        if (Files.isDirectory(file)) {
            Path inside = file.resolve("model.tribuo");
            throw new ModelFileException(file, Files.isRegularFile(inside) ? "is a folder; the model in it is " + inside
                    : "is a folder, not a model file");
        }
        if (!Files.exists(file)) {
            throw new ModelFileException(file, "does not exist");
        }
        byte[] bytes;
        try {
            if (Files.size(file) > Integer.MAX_VALUE - 8) {
                throw new ModelFileException(file, "is " + Files.size(file) + " bytes, larger than any Tribuo model "
                        + "file can be (2 GiB); it is not a model file");
            }
            bytes = Files.readAllBytes(file);
        } catch (ModelFileException e) {
            throw e;
        } catch (IOException e) {
            throw new ModelFileException(file, "cannot be read: " + e, e);
        }
        if (bytes.length == 0) {
            throw new ModelFileException(file, "is empty (0 bytes): the save was interrupted or the copy failed; copy "
                    + "it again or train again");
        }
        return bytes;
    }

    /** Why bytes that are not a whole ModelProto cannot be loaded: truncated or damaged if they start like one. */
    private static String unparseable(byte[] bytes, InvalidProtocolBufferException e) {
        String className = leadingClassName(bytes);
        boolean endedEarly = String.valueOf(e.getMessage()).contains(ENDED_INSIDE_A_FIELD);
        if (className == null) {
            return "is not a Tribuo model file: its bytes are not a Tribuo ModelProto (protobuf: " + e.getMessage()
                    + "); a model file is the model.tribuo that 'train --output' or Model.serializeToFile writes";
        }
        if (endedEarly) {
            return "is a truncated " + className + " file: it ends after " + bytes.length + " bytes, in the middle of "
                    + "its data (an interrupted save, copy or download); copy it again or train again";
        }
        return "is a damaged " + className + " file: its data cannot be parsed (protobuf: " + e.getMessage() + "); "
                + "the file is corrupted: use an intact copy or train again";
    }

    /** The class name a ModelProto starts with (fields 1 and 2 come first), or null when there is none. */
    private static String leadingClassName(byte[] bytes) {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        try {
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                int field = WireFormat.getTagFieldNumber(tag);
                if (field == ModelProto.CLASS_NAME_FIELD_NUMBER && WireFormat.getTagWireType(tag)
                        == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    String name = in.readStringRequireUtf8();
                    return CLASS_NAME.matcher(name).matches() ? name : null;
                }
                if (field != ModelProto.VERSION_FIELD_NUMBER || !in.skipField(tag)) {
                    return null;
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    private static void checkModelClass(Path file, String className) throws ModelFileException {
        Class<?> c;
        try {
            c = Class.forName(className, false, AdapterModels.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new ModelFileException(file, "holds a model of class " + className + ", which is not on the "
                    + "classpath: add the library that defines it, or, if this should be a tribuo-peft model, the "
                    + "file is corrupted", e);
        }
        if (!Model.class.isAssignableFrom(c)) {
            throw new ModelFileException(file, "names class " + className + ", which is not a Tribuo model; the file "
                    + "is corrupted or not a model file");
        }
    }

    /** Finds the failure that explains a load error under Tribuo's reflective wrappers. */
    private static ModelFileException explain(Path file, RuntimeException e) {
        Throwable root = e;
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        for (Throwable t = e; t != null && seen.put(t, Boolean.TRUE) == null; t = t.getCause()) {
            root = t;
            if (t instanceof CorruptModelException || t instanceof BaseModelMismatchException
                    || t instanceof ModelFileException || t instanceof InvalidProtocolBufferException) {
                break;
            }
        }
        String problem;
        if (root instanceof CorruptModelException || root instanceof BaseModelMismatchException
                || root instanceof ModelFileException) {
            problem = root.getMessage();
        } else if (root instanceof InvalidProtocolBufferException) {
            problem = "its model data cannot be parsed (protobuf: " + root.getMessage() + "); the file is corrupted: "
                    + "use an intact copy or train again";
        } else {
            problem = "cannot be loaded: " + root;
        }
        return new ModelFileException(file, problem, root);
    }
}
