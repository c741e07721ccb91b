package org.tribuopeft.adapters.method;

/** A method name, class or PEFT type that no registered {@link MethodDescriptor} answers to. */
public class UnknownMethodException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message names the unknown method and lists the registered ones
     */
    public UnknownMethodException(String message) {
        super(message);
    }
}
