package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.Config;
import org.tribuopeft.plugin.data.ImdbDataSource;
import org.tribuopeft.plugin.data.TextCsvDataSource;
import org.tribuopeft.plugin.data.TextJsonDataSource;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.quant.BaseQuantization;

import java.util.ArrayList;
import java.util.List;

/**
 * Generates the configuration reference (docs/configuration.md) from the {@code @Config} fields
 * themselves, so the documented options, defaults and descriptions are always the code's.
 */
public final class ConfigurationReference {
    /**
     * The components documented, in order: the trainer, every registered method, the base quantization, then the data
     * components.
     */
    public static final List<Class<?>> COMPONENTS = components();

    private ConfigurationReference() {}

    private static List<Class<?>> components() {
        List<Class<?>> out = new ArrayList<>();
        out.add(AdapterTrainer.class);
        MethodRegistry.all().forEach(d -> out.add(d.configClass()));
        out.add(BaseQuantization.class);
        out.addAll(List.of(TextPipeline.class, ImdbDataSource.class, TextCsvDataSource.class, TextJsonDataSource.class,
                TextPresenceProcessor.class));
        return List.copyOf(out);
    }

    /** The reference as Markdown: one table per component. */
    public static String markdown() {
        StringBuilder sb = new StringBuilder();
        for (Class<?> c : COMPONENTS) {
            sb.append("### `").append(c.getName()).append("`\n\n");
            sb.append("| property | type | default | description |\n|---|---|---|---|\n");
            Object defaults = defaults(c);
            for (Field f : configFields(c)) {
                Config cfg = f.getAnnotation(Config.class);
                sb.append("| `").append(f.getName()).append("` | ").append(typeName(f)).append(" | ")
                        .append(cfg.mandatory() ? "**required**" : defaultValue(f, defaults)).append(" | ")
                        .append(cfg.description().replace("|", "\\|")).append(" |\n");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static List<Field> configFields(Class<?> c) {
        List<Class<?>> chain = new ArrayList<>();
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            chain.add(0, k);
        }
        List<Field> out = new ArrayList<>();
        for (Class<?> k : chain) {
            for (Field f : k.getDeclaredFields()) {
                if (f.isAnnotationPresent(Config.class) && !Modifier.isStatic(f.getModifiers())) {
                    out.add(f);
                }
            }
        }
        return out;
    }

    private static Object defaults(Class<?> c) {
        try {
            Constructor<?> ctor = c.getDeclaredConstructor();
            ctor.setAccessible(true);
            return ctor.newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot instantiate " + c.getName() + " for its defaults", e);
        }
    }

    private static String defaultValue(Field f, Object instance) {
        try {
            f.setAccessible(true);
            Object v = f.get(instance);
            if (v == null) {
                return "unset";
            }
            String s = v instanceof String str ? (str.isEmpty() ? "\"\"" : str) : v.toString();
            return "`" + s + "`";
        } catch (IllegalAccessException e) {
            return "?";
        }
    }

    private static String typeName(Field f) {
        String t = f.getGenericType().getTypeName().replaceAll("\\b[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*\\.", "");
        return t.replace("<", "&lt;").replace(">", "&gt;");
    }
}
