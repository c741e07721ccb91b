package org.tribuopeft.cli;

import com.oracle.labs.mlrg.olcut.config.ArgumentException;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.ConfigurationData;
import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.config.io.ConfigLoaderException;
import com.oracle.labs.mlrg.olcut.config.json.JsonConfigFactory;
import com.oracle.labs.mlrg.olcut.config.property.SimpleProperty;
import org.tribuo.Output;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.plugin.TextPipeline;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Loads a {@link TextPipeline} from an OLCUT configuration file and command-line overrides, turning OLCUT's
 * errors into ones that name the configuration file, the component and the property at fault, and
 * checking before anything is built that each trainer's method names a method component.
 */
final class PipelineConfiguration {
    private PipelineConfiguration() {}

    /**
     * The pipeline component {@code name} of the configuration.
     *
     * @param file the configuration file as the user gave it
     * @param olcutArgs the OLCUT arguments: {@code --config-file FILE} and {@code --@component.property value} pairs
     * @param name the pipeline component's name
     * @throws CliException when the file is missing, of an unknown format, or has no such pipeline
     * @throws ConfigurationFileException when a component cannot be built, naming the file and component
     */
    @SuppressWarnings("unchecked")
    static <T extends Output<T>> TextPipeline<T> load(String file, List<String> olcutArgs, String name) {
        checkedFile(file);
        ConfigurationManager.addFileFormatFactory(new JsonConfigFactory());
        ConfigurationManager cm;
        try {
            cm = new ConfigurationManager(olcutArgs.toArray(new String[0]));
        } catch (PropertyException | ConfigLoaderException | ArgumentException e) {
            checkOverrides(file, olcutArgs);
            throw new ConfigurationFileException("configuration " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // OLCUT fails without a message when an override targets a component whose type does not load.
            checkOverrides(file, olcutArgs);
            throw new ConfigurationFileException("configuration " + file + " cannot be loaded: " + e, e);
        }
        checkTypes(cm, file);
        if (!cm.getComponentNames().contains(name)) {
            throw new CliException("configuration " + file + " has no component named '" + name + "'; its components "
                    + "are " + new TreeSet<>(cm.getComponentNames()) + " (choose one with --pipeline NAME)");
        }
        checkMethods(cm, file, olcutArgs);
        Object p;
        try {
            p = cm.lookup(name);
        } catch (PropertyException e) {
            throw new ConfigurationFileException("configuration " + file + ": " + describe(cm, e), e);
        }
        if (!(p instanceof TextPipeline<?>)) {
            throw new CliException("component '" + name + "' of " + file + " is a " + p.getClass().getName()
                    + ", not a TextPipeline");
        }
        return (TextPipeline<T>) p;
    }

    /**
     * The one method component of a configuration file (any component whose type is an {@link AdapterMethod}), for
     * commands that time or compare a method with the user's own settings rather than the registry's benchmark
     * settings.
     *
     * @throws CliException when the file is missing, of an unknown format, or defines no method or more than one
     * @throws ConfigurationFileException when the method cannot be built, naming the file and component
     */
    static AdapterMethod loadMethod(String file) {
        Path path = checkedFile(file);
        ConfigurationManager.addFileFormatFactory(new JsonConfigFactory());
        ConfigurationManager cm;
        try {
            cm = new ConfigurationManager(new String[] {"--config-file", path.toString()});
        } catch (RuntimeException e) {
            throw new ConfigurationFileException("configuration " + file + " cannot be loaded: " + e.getMessage(), e);
        }
        checkTypes(cm, file);
        List<String> methods = methodComponents(cm);
        if (methods.size() != 1) {
            throw new CliException("configuration " + file + " must define exactly one method component (a component "
                    + "of type " + methodTypes() + "), but " + (methods.isEmpty() ? "it defines none" : "it defines "
                    + methods));
        }
        try {
            return (AdapterMethod) cm.lookup(methods.get(0));
        } catch (PropertyException e) {
            throw new ConfigurationFileException("configuration " + file + ": " + describe(cm, e), e);
        }
    }

    /** The configuration file's path, after checking that it exists and is in a format OLCUT reads here. */
    private static Path checkedFile(String file) {
        Path path = Paths.get(file);
        if (!Files.isRegularFile(path)) {
            throw new CliException("configuration file " + path.toAbsolutePath() + " does not exist");
        }
        String lower = file.toLowerCase(Locale.ROOT);
        if (!lower.endsWith(".xml") && !lower.endsWith(".json")) {
            throw new CliException("configuration file " + file + " is neither .xml nor .json; tribuo-peft reads OLCUT "
                    + "configuration files in those two formats (see docs/examples)");
        }
        return path;
    }

    /**
     * Each AdapterTrainer's {@code method} must name a component that is a method: otherwise OLCUT reports
     * only that some component is missing, without saying that it was the method or what the methods are.
     */
    private static void checkMethods(ConfigurationManager cm, String file, List<String> olcutArgs) {
        List<String> methods = methodComponents(cm);
        for (String n : new TreeSet<>(cm.getComponentNames())) {
            if (classOf(cm, n).filter(AdapterTrainer.class::isAssignableFrom).isEmpty()) {
                continue;
            }
            Optional<String> method = override(olcutArgs, n, "method").or(() -> cm.getConfigurationData(n)
                    .flatMap(d -> d.get("method")).filter(SimpleProperty.class::isInstance)
                    .map(v -> ((SimpleProperty) v).getValue()));
            // A ${global} reference is resolved by OLCUT itself; only a plain name can be checked here.
            if (method.isPresent() && !method.get().contains("${") && !methods.contains(method.get())) {
                throw new ConfigurationFileException("configuration " + file + ", component '" + n + "', property "
                        + "method: unknown method '" + method.get() + "'; the methods this configuration defines are "
                        + methods + ". A method is a component of type " + methodTypes() + " (package org.tribuopeft.adapters)"
                        + "; add one named '" + method.get() + "' or choose one of " + methods);
            }
        }
    }

    /** The names of the configuration's components whose type is a method, in name order. */
    private static List<String> methodComponents(ConfigurationManager cm) {
        List<String> methods = new ArrayList<>();
        for (String n : new TreeSet<>(cm.getComponentNames())) {
            if (classOf(cm, n).filter(AdapterMethod.class::isAssignableFrom).isPresent()) {
                methods.add(n);
            }
        }
        return methods;
    }

    /** The registered methods' config class names, for messages that say what a method component is. */
    private static String methodTypes() {
        return String.join(", ", MethodRegistry.all().stream().map(d -> d.configClass().getSimpleName()).toList());
    }

    /**
     * Names the override at fault, with the components or properties there are: OLCUT says only that it
     * failed to find the field or component.
     */
    private static void checkOverrides(String file, List<String> olcutArgs) {
        ConfigurationManager base;
        try {
            base = new ConfigurationManager(new String[] {"--config-file", file});
        } catch (RuntimeException e) {
            return;
        }
        checkTypes(base, file);
        for (int i = 0; i + 1 < olcutArgs.size(); i += 2) {
            String arg = olcutArgs.get(i);
            int dot = arg.indexOf('.');
            if (!arg.startsWith("--@") || dot < 0) {
                continue;
            }
            String component = arg.substring(3, dot);
            String property = arg.substring(dot + 1);
            Optional<Class<?>> type = classOf(base, component);
            if (!base.getComponentNames().contains(component)) {
                throw new ConfigurationFileException("configuration " + file + ": the override " + arg + " names a "
                        + "component '" + component + "' the file does not define; its components are "
                        + new TreeSet<>(base.getComponentNames()));
            }
            if (type.isPresent() && !hasConfigField(type.get(), property)) {
                throw new ConfigurationFileException("configuration " + file + ": the override " + arg + " names a "
                        + "property '" + property + "' that component '" + component + "' ("
                        + type.get().getSimpleName() + ") does not have; its properties are "
                        + configFieldNames(type.get()));
            }
        }
    }

    /** Every component's type must be a class on the class path: OLCUT otherwise fails later, often without a message. */
    private static void checkTypes(ConfigurationManager cm, String file) {
        for (String n : new TreeSet<>(cm.getComponentNames())) {
            Optional<ConfigurationData> data = cm.getConfigurationData(n);
            String type = data.map(ConfigurationData::getClassName).orElse(null);
            if (type == null) {
                continue;
            }
            try {
                Class.forName(type);
            } catch (ClassNotFoundException | LinkageError e) {
                throw new ConfigurationFileException("configuration " + file + ": component '" + n + "' has type "
                        + type + ", which is not a class on the class path; check its spelling (the types tribuo-peft "
                        + "provides are listed in docs/configuration.md)", e);
            }
        }
    }

    private static Optional<String> override(List<String> olcutArgs, String component, String property) {
        String key = "--@" + component + "." + property;
        Optional<String> value = Optional.empty();
        for (int i = 0; i + 1 < olcutArgs.size(); i++) {
            if (olcutArgs.get(i).equals(key)) {
                value = Optional.of(olcutArgs.get(i + 1));
            }
        }
        return value;
    }

    private static Optional<Class<?>> classOf(ConfigurationManager cm, String component) {
        Optional<ConfigurationData> data = cm.getConfigurationData(component);
        if (data.isEmpty() || data.get().getClassName() == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Class.forName(data.get().getClassName()));
        } catch (ClassNotFoundException | LinkageError e) {
            return Optional.empty();
        }
    }

    /**
     * OLCUT's message, plus the component when OLCUT left it out: a component's own validation often
     * throws without knowing its name, so it is found as the one component whose class has the property.
     */
    private static String describe(ConfigurationManager cm, PropertyException e) {
        Throwable cause = e.getCause();
        if (cause instanceof org.tribuopeft.plugin.data.DataFileException data) {
            return data.getMessage();
        }
        String message = e.getMessage();
        if (e.getProperty() == null || e.getProperty().isEmpty()) {
            return message;
        }
        for (String n : new TreeSet<>(cm.getComponentNames())) {
            Optional<Class<?>> type = classOf(cm, n);
            boolean written = cm.getConfigurationData(n).map(d -> d.contains(e.getProperty())).orElse(false);
            if (written && type.isPresent() && !hasConfigField(type.get(), e.getProperty())) {
                return "component '" + n + "' (" + type.get().getSimpleName() + ") has no property '" + e.getProperty()
                        + "'; its properties are " + configFieldNames(type.get());
            }
        }
        if (message.startsWith("Component:")) {
            return message;
        }
        List<String> owners = new ArrayList<>();
        for (String n : new TreeSet<>(cm.getComponentNames())) {
            if (classOf(cm, n).filter(c -> hasConfigField(c, e.getProperty())).isPresent()) {
                owners.add(n);
            }
        }
        String where = owners.size() == 1 ? "component '" + owners.get(0) + "', " : "";
        return where + "property " + e.getProperty() + ": " + e.getMsg();
    }

    private static boolean hasConfigField(Class<?> c, String name) {
        return configFieldNames(c).contains(name);
    }

    private static TreeSet<String> configFieldNames(Class<?> c) {
        TreeSet<String> names = new TreeSet<>();
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (f.isAnnotationPresent(Config.class)) {
                    names.add(f.getName());
                }
            }
        }
        return names;
    }
}
