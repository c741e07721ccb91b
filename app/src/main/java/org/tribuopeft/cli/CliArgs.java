package org.tribuopeft.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line split into the command, its own {@code --name value} options, and what OLCUT
 * handles: the configuration file and {@code --@component.property value} overrides.
 */
final class CliArgs {
    final String command;
    final Map<String, String> options = new LinkedHashMap<>();
    final List<String> olcutArgs = new ArrayList<>();

    private CliArgs(String command) {
        this.command = command;
    }

    /**
     * Parses {@code args}.
     *
     * @param allowed the option names the command accepts (without dashes)
     * @throws CliException naming an unknown option or a missing value
     */
    static CliArgs parse(String[] args, Set<String> allowed) {
        return parse(args, allowed, Set.of());
    }

    /**
     * Parses {@code args}, where {@code flags} are options without a value (such as {@code --overwrite}).
     *
     * @throws CliException naming an unknown option or a missing value
     */
    static CliArgs parse(String[] args, Set<String> allowed, Set<String> flags) {
        if (args.length == 0) {
            throw new CliException("no command given");
        }
        CliArgs a = new CliArgs(args[0]);
        for (int i = 1; i < args.length; i++) {
            String arg = args[i];
            if (arg.startsWith("--@")) {
                if (i + 1 >= args.length) {
                    throw new CliException("override " + arg + " needs a value");
                }
                a.olcutArgs.add(arg);
                a.olcutArgs.add(args[++i]);
            } else if (arg.equals("--config") || arg.equals("-c") || arg.equals("--config-file")) {
                if (i + 1 >= args.length) {
                    throw new CliException(arg + " needs a file");
                }
                a.olcutArgs.add("--config-file");
                a.olcutArgs.add(args[++i]);
                a.options.put("config", args[i]);
            } else if (arg.startsWith("--") && flags.contains(arg.substring(2))) {
                a.options.put(arg.substring(2), "true");
            } else if (arg.startsWith("--")) {
                String name = arg.substring(2);
                if (!allowed.contains(name)) {
                    throw new CliException("unknown option " + arg + " for '" + a.command + "'; it accepts "
                            + java.util.stream.Stream.concat(allowed.stream(), flags.stream()).sorted()
                            .map(s -> "--" + s).toList());
                }
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                    throw new CliException("option " + arg + " needs a value");
                }
                a.options.put(name, args[++i]);
            } else {
                throw new CliException("unexpected argument '" + arg + "'");
            }
        }
        return a;
    }

    String get(String name, String dflt) {
        return options.getOrDefault(name, dflt);
    }

    String require(String name) {
        String v = options.get(name);
        if (v == null) {
            throw new CliException("'" + command + "' needs --" + name);
        }
        return v;
    }

    /** True when the flag {@code --name} was given. */
    boolean has(String name) {
        return options.containsKey(name);
    }

    int getInt(String name, int dflt) {
        String v = options.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new CliException("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    double getDouble(String name, double dflt) {
        String v = options.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new CliException("--" + name + " must be a number, got '" + v + "'");
        }
    }
}
