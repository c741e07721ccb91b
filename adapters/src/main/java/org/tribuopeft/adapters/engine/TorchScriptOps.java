package org.tribuopeft.adapters.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * PyTorch operators that DJL 0.35.1's Java API does not reach (a fused Linear with its bias, scaled
 * dot-product attention, casts to bfloat16, the fused AdamW kernel), run through one small TorchScript
 * module that libtorch compiles from the source text in {@link #SOURCE} when this class first loads it.
 * No Python and no file is involved: the module's archive is assembled in memory and read by the engine.
 * Calls are recorded by autograd like any other operator when gradients are being collected, so these
 * operators can sit inside a training graph. The methods run unoptimized (libtorch's graph executor is told not
 * to profile and rewrite them), so every call computes the same way whether it is a process's first or its
 * thousandth, which bit-identical resumption and replay need.
 *
 * <p>Methods are added to {@link #SOURCE} in TorchScript's serialized dialect: operators are named
 * {@code torch.NAME} after their ATen schema, dtypes are ATen's integer codes ({@code 6} float32,
 * {@code 15} bfloat16).
 */
public final class TorchScriptOps {
    /** ATen's code for float32 in the TorchScript source. */
    public static final int FLOAT32 = 6;
    /** ATen's code for bfloat16 in the TorchScript source. */
    public static final int BFLOAT16 = 15;

    /**
     * The module's code. Every method takes tensors and plain numbers and returns a tensor or a list of
     * tensors.
     */
    static final String SOURCE = """
            class Ops(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.Ops,
                x: Tensor) -> Tensor:
                return x
              def linear(self: __torch__.Ops,
                x: Tensor,
                weight: Tensor,
                bias: Tensor) -> Tensor:
                return torch.linear(x, weight, bias)
              def linear_nobias(self: __torch__.Ops,
                x: Tensor,
                weight: Tensor) -> Tensor:
                return torch.linear(x, weight)
              def linear_bf16(self: __torch__.Ops,
                x: Tensor,
                weight: Tensor,
                bias: Tensor) -> Tensor:
                y = torch.linear(torch.to(x, 15), torch.to(weight, 15), torch.to(bias, 15))
                return torch.to(y, 6)
              def linear_nobias_bf16(self: __torch__.Ops,
                x: Tensor,
                weight: Tensor) -> Tensor:
                return torch.to(torch.linear(torch.to(x, 15), torch.to(weight, 15)), 6)
              def linear_low_rank(self: __torch__.Ops,
                x: Tensor,
                weight: Tensor,
                bias: Tensor,
                a: Tensor,
                b: Tensor,
                scale: float,
                dropout_p: float,
                kept: Tensor,
                bf16: bool) -> Tensor:
                width = torch.size(x, -1)
                x2 = torch.reshape(x, [-1, width])
                has_bias = torch.gt(torch.numel(bias), 0)
                if bf16:
                  if has_bias:
                    y = torch.to(torch.linear(torch.to(x2, 15), torch.to(weight, 15), torch.to(bias, 15)), 6)
                  else:
                    y = torch.to(torch.linear(torch.to(x2, 15), torch.to(weight, 15)), 6)
                else:
                  if has_bias:
                    y = torch.linear(x2, weight, bias)
                  else:
                    y = torch.linear(x2, weight)
                xin = x2
                if torch.gt(dropout_p, 0.):
                  if torch.gt(torch.numel(kept), 0):
                    xin = torch.mul(x2, torch.to(torch.reshape(kept, [-1, width]), ops.prim.dtype(x2)))
                    scale = torch.div(scale, torch.sub(1., dropout_p))
                  else:
                    xin = (self).dropout(x2, dropout_p)
                y = torch.addmm_(y, torch.mm(xin, torch.t(a)), torch.contiguous(torch.t(b)), beta=1, alpha=scale)
                sizes = torch.size(x)
                return torch.reshape(y, torch.add(sizes[:-1], [torch.size(weight, 0)]))
              def low_rank(self: __torch__.Ops,
                x: Tensor,
                a: Tensor,
                b: Tensor) -> Tensor:
                width = torch.size(x, -1)
                h = torch.mm(torch.reshape(x, [-1, width]), torch.t(a))
                y = torch.mm(h, torch.contiguous(torch.t(b)))
                sizes = torch.size(x)
                return torch.reshape(y, torch.add(sizes[:-1], [torch.size(b, 0)]))
              def attention(self: __torch__.Ops,
                q: Tensor,
                k: Tensor,
                v: Tensor,
                mask: Tensor,
                heads: int,
                dropout_p: float,
                kept: Tensor,
                bf16: bool) -> Tensor:
                return (self).attend(q, k, v, mask, heads, dropout_p, kept, bf16)
              def attention_unmasked(self: __torch__.Ops,
                q: Tensor,
                k: Tensor,
                v: Tensor,
                heads: int,
                dropout_p: float,
                kept: Tensor,
                bf16: bool) -> Tensor:
                return (self).attend(q, k, v, None, heads, dropout_p, kept, bf16)
              def attend(self: __torch__.Ops,
                q: Tensor,
                k: Tensor,
                v: Tensor,
                mask: Optional[Tensor],
                heads: int,
                dropout_p: float,
                kept: Tensor,
                bf16: bool) -> Tensor:
                dtype = ops.prim.dtype(q)
                if bf16:
                  dtype = 15
                  if mask is not None:
                    mask = torch.to(mask, 15)
                b = torch.size(q, 0)
                t = torch.size(q, 1)
                n = torch.size(k, 1)
                qh = torch.transpose(torch.reshape(torch.to(q, dtype), [b, t, heads, -1]), 1, 2)
                kh = torch.transpose(torch.reshape(torch.to(k, dtype), [b, n, heads, -1]), 1, 2)
                vh = torch.transpose(torch.reshape(torch.to(v, dtype), [b, n, heads, -1]), 1, 2)
                if torch.gt(dropout_p, 0.):
                  scale = torch.div(1., torch.sqrt(float(torch.size(qh, 3))))
                  scores = torch.matmul(torch.mul(qh, scale), torch.transpose(kh, 2, 3))
                  if mask is not None:
                    scores = torch.add(scores, mask)
                  if torch.gt(torch.numel(kept), 0):
                    probs = (self).dropout_with(torch.softmax(scores, -1), kept, dropout_p)
                  else:
                    probs = (self).dropout(torch.softmax(scores, -1), dropout_p)
                  ctx = torch.matmul(probs, vh)
                else:
                  ctx = torch.scaled_dot_product_attention(qh, kh, vh, mask)
                return torch.to(torch.reshape(torch.transpose(ctx, 1, 2), [b, t, -1]), 6)
              def dropout(self: __torch__.Ops,
                x: Tensor,
                p: float) -> Tensor:
                keep = torch.sub(1., p)
                n = torch.numel(x)
                half = torch.floordiv(torch.add(n, 1), 2)
                bits = torch.empty([half], dtype=4, device=ops.prim.device(x))
                _0 = torch.random_(bits, torch.sub(-9223372036854775807, 1), None)
                below = torch.sub(int(torch.add(torch.mul(keep, 4294967296.), 0.5)), 2147483648)
                limit = torch.mul(min(below, 2147483647), 4294967296)
                both = torch.empty([torch.mul(half, 2)], dtype=11, device=ops.prim.device(x))
                _1 = torch.lt(bits, limit, out=torch.slice(both, 0, 0, half))
                _2 = torch.bitwise_left_shift_(bits, 32)
                _3 = torch.lt(bits, limit, out=torch.slice(both, 0, half))
                kept = torch.view(torch.slice(both, 0, 0, n), torch.size(x))
                noise = torch.div_(torch.to(kept, 6), keep)
                return torch.mul(x, torch.to(noise, ops.prim.dtype(x)))
              def dropout_with(self: __torch__.Ops,
                x: Tensor,
                kept: Tensor,
                p: float) -> Tensor:
                noise = torch.div_(torch.to(kept, ops.prim.dtype(x)), torch.sub(1., p))
                return torch.mul(x, noise)
              def draw_seed(self: __torch__.Ops,
                x: Tensor) -> Tensor:
                bits = torch.empty([1], dtype=4)
                return torch.random_(bits, torch.sub(-9223372036854775807, 1), None)
              def to_dtype(self: __torch__.Ops,
                x: Tensor,
                dtype: int) -> Tensor:
                return torch.to(x, dtype)
              def adamw_group_(self: __torch__.Ops,
                params: List[Tensor],
                grads: List[Tensor],
                exp_avgs: List[Tensor],
                exp_avg_sqs: List[Tensor],
                state_steps: List[Tensor],
                lr: float,
                beta1: float,
                beta2: float,
                weight_decay: float,
                eps: float,
                grad_scale: float,
                zero_grads: bool) -> Tensor:
                grad_enabled = torch.is_grad_enabled()
                torch.set_grad_enabled(False)
                if grad_scale != 1.:
                  torch._foreach_mul_(grads, grad_scale)
                else:
                  pass
                torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, annotate(List[Tensor], []), state_steps, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)
                if zero_grads:
                  torch._foreach_zero_(grads)
                else:
                  pass
                torch.set_grad_enabled(grad_enabled)
                return state_steps[0]
              def gradients(self: __torch__.Ops,
                loss: Tensor,
                inputs: List[Tensor]) -> List[Tensor]:
                grads = torch.autograd.grad([loss], inputs, None, None, False, True)
                out = annotate(List[Tensor], [])
                for i in range(len(inputs)):
                  g = grads[i]
                  if g is None:
                    out.append(torch.zeros_like(inputs[i]))
                  else:
                    out.append(torch.contiguous(g))
                return out
              def global_norm(self: __torch__.Ops,
                tensors: List[Tensor]) -> Tensor:
                grad_enabled = torch.is_grad_enabled()
                torch.set_grad_enabled(False)
                norms = torch._foreach_norm(tensors, 2)
                norm = torch.linalg_vector_norm(torch.stack(norms), 2)
                torch.set_grad_enabled(grad_enabled)
                return norm
            """;

    private static final String ARCHIVE = "ops/";
    /**
     * The pickled module object: protocol 2, {@code __torch__.Ops} built with an empty tuple and its state set
     * to {@code {"training": True}} ({@code \x80\x02 c__torch__\nOps\n q\0 ) \x81 } ( X<len>training q\1 \x88 u b
     * q\2 .}).
     */
    private static final byte[] DATA_PKL = pickleModule();
    /** An empty tuple, protocol 2: the module has no constants. */
    private static final byte[] CONSTANTS_PKL = {(byte) 0x80, 2, ')', '.'};

    private static volatile TorchScriptOps instance;

    private final PtSymbolBlock module;
    private final Method runMethod;
    private final Object library;
    private final Constructor<IValue> ivalue;

    private TorchScriptOps(PtSymbolBlock module) {
        this.module = module;
        try {
            Class<?> lib = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            var field = lib.getDeclaredField("LIB");
            field.setAccessible(true);
            library = field.get(null);
            // DJL's public IValueUtils.runMethod always runs without gradients; this entry point takes the flag
            runMethod = lib.getDeclaredMethod("moduleRunMethod", long.class, String.class, long[].class,
                    boolean.class, boolean.class);
            runMethod.setAccessible(true);
            ivalue = IValue.class.getDeclaredConstructor(long.class);
            ivalue.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("DJL " + TorchRuntime.djlVersion() + " does not offer the TorchScript "
                    + "entry points this library calls (PyTorchLibrary.moduleRunMethod); it is built for DJL 0.35.1", e);
        }
    }

    /** The module, loaded into the engine once per JVM. */
    public static TorchScriptOps get() {
        TorchScriptOps ops = instance;
        if (ops == null) {
            synchronized (TorchScriptOps.class) {
                ops = instance;
                if (ops == null) {
                    PtNDManager system = (PtNDManager) TorchRuntime.engine().newBaseManager();
                    try {
                        PtSymbolBlock block = JniUtils.loadModule(system, new ByteArrayInputStream(archive()), false,
                                false);
                        ops = new TorchScriptOps(block);
                    } catch (IOException e) {
                        throw new UncheckedIOException("libtorch could not read the TorchScript operator module", e);
                    }
                    instance = ops;
                }
            }
        }
        return ops;
    }

    /**
     * {@code x·Wᵀ + b} as one ATen {@code linear} (a single addmm for contiguous input). With {@code bfloat16}, x, W
     * and b are rounded to bfloat16 inside the module, the product is one bfloat16 addmm, and the result comes back
     * as float32 (so DJL never holds a bfloat16 array); gradients flow back through the casts to the float32 inputs.
     *
     * @param bias the bias, or null for none
     */
    public NDArray linear(NDArray x, NDArray weight, NDArray bias, boolean bfloat16) {
        String suffix = bfloat16 ? "_bf16" : "";
        return bias == null ? call(x, "linear_nobias" + suffix, x, weight) : call(x, "linear" + suffix, x, weight, bias);
    }

    /**
     * {@code x·Wᵀ + b + scale·(dropout(x)·Aᵀ)·Bᵀ}, a Linear with a low-rank term added, in one call: the base product
     * is computed on the flattened input so its result is a fresh matrix, and the low-rank product is accumulated
     * into it in place by one addmm with {@code scale} as its alpha. Against adding {@code scale·B·A·x} as separate
     * operators this saves three passes over the output per layer and step (the scaling, the sum, and the scaling
     * of the gradient), and the dropout's {@code 1/(1 − p)} moves into that alpha instead of a pass over the mask.
     * With {@code bfloat16} only the base product is rounded (as {@link #linear} does); the low-rank term stays
     * float32. Bᵀ goes into the product as a contiguous copy (r × out values): autograd computes the gradient of a
     * transposed (column-major) factor as (dYᵀ·h)ᵀ, a [out, tokens]·[tokens, r] product that MKL runs at a tenth of
     * its rate, and of a contiguous one as hᵀ·dY, five times faster here; the copy's gradient is then transposed back
     * (r × out values). Same values up to rounding.
     *
     * @param x [..., in]
     * @param weight [out, in]
     * @param bias [out], or null for none
     * @param a [r, in]
     * @param b [out, r]
     * @param dropoutP dropout rate on the low-rank input ({@code x} itself for the base product), 0 for none
     * @return [..., out] float32
     */
    public NDArray linearLowRank(NDArray x, NDArray weight, NDArray bias, NDArray a, NDArray b, double scale,
                                 double dropoutP, boolean bfloat16) {
        NDArray noBias = bias == null ? x.getManager().create(new Shape(0)) : null;
        NDArray kept = keepMaskOrEmpty(x, x.getShape(), dropoutP);
        try {
            return call(x, "linear_low_rank", x, weight, bias == null ? noBias : bias, a, b, scale, dropoutP, kept,
                    bfloat16);
        } finally {
            kept.close();
            if (noBias != null) {
                noBias.close();
            }
        }
    }

    /**
     * The low-rank product {@code (x·Aᵀ)·Bᵀ} alone, float32, with Bᵀ made contiguous for the reason
     * {@link #linearLowRank} gives (its gradient is then the fast product).
     *
     * @param x [..., in]
     * @param a [r, in]
     * @param b [out, r]
     * @return [..., out]
     */
    public NDArray lowRank(NDArray x, NDArray a, NDArray b) {
        return call(x, "low_rank", x, a, b);
    }

    /**
     * Multi-head scaled dot-product attention, {@code softmax(q·kᵀ/√d + mask)·v} per head. Without dropout it is one
     * ATen {@code scaled_dot_product_attention} (libtorch's fused kernel); with dropout it is the same composite
     * libtorch would run (scaled scores, mask, softmax, dropout, product with v) but with the attention
     * probabilities dropped as {@link #dropout} drops, which costs less than the composite's own dropout.
     *
     * @param q [batch, tokens, heads·headSize]
     * @param k [batch, keys, heads·headSize]
     * @param v [batch, keys, heads·headSize]
     * @param maskBias [batch, 1, 1, keys] float32, added to the scores (0 to attend, very negative to skip), or
     *     null when every key of every row is attended (no padding), which saves adding zeros to the scores
     * @param heads the number of heads the hidden width is split into
     * @param dropoutP probability of zeroing an attention weight, 0 for none
     * @param bfloat16 true to compute with q, k, v and the mask rounded to bfloat16 inside the module
     * @return [batch, tokens, heads·headSize] float32
     */
    public NDArray attention(NDArray q, NDArray k, NDArray v, NDArray maskBias, int heads, double dropoutP,
                             boolean bfloat16) {
        // the weights' mask, [batch, heads, tokens, keys], when drawn on the JVM; empty to draw on the device
        NDArray kept = keepMaskOrEmpty(q, new Shape(q.getShape().get(0), heads, q.getShape().get(1),
                k.getShape().get(1)), dropoutP);
        try {
            return maskBias == null
                    ? call(q, "attention_unmasked", q, k, v, (long) heads, dropoutP, kept, bfloat16)
                    : call(q, "attention", q, k, v, maskBias, (long) heads, dropoutP, kept, bfloat16);
        } finally {
            kept.close();
        }
    }

    /**
     * Inverted dropout, {@code x · mask / (1 − p)} with each mask element 1 with probability {@code 1 − p}: the
     * arithmetic of {@code torch.nn.functional.dropout}, with masks drawn more cheaply. On the CPU libtorch draws
     * random numbers in a serial loop, one generator call per element, so the draw dominated a mask's cost: for a
     * tensor on the CPU the mask is drawn on the JVM, in parallel, by {@link DropoutMasks} from one 64-bit seed taken
     * from the engine's generator. On another device each 64-bit draw of the device's generator decides two
     * elements, one in each half of the tensor, by its high and its low 32 bits. Either way an element is kept
     * when 32 random bits fall below {@code round((1 − p)·2³²)} (exact to 2⁻³², finer than a float32 uniform's
     * 2⁻²⁴), and a run seeded the same way draws the same masks. Gradients flow to {@code x} through the mask.
     *
     * @param p probability of zeroing an element, in [0, 1)
     */
    public NDArray dropout(NDArray x, double p) {
        if (!onCpu(x)) {
            return call(x, "dropout", x, p);
        }
        try (NDArray kept = DropoutMasks.keepMask(x.getManager(), x.getShape(), p, drawSeed(x))) {
            return call(x, "dropout_with", x, kept, p);
        }
    }

    /**
     * The keep-mask of a dropout at rate {@code p} over {@code shape}, drawn on the JVM, when {@code like} is on the
     * CPU and {@code p > 0}; otherwise an empty array, which tells a TorchScript method to draw on the device (or
     * that there is no dropout). The mask shares a per-thread buffer: close it before drawing the next one.
     */
    private NDArray keepMaskOrEmpty(NDArray like, Shape shape, double p) {
        return p > 0 && onCpu(like)
                ? DropoutMasks.keepMask(like.getManager(), shape, p, drawSeed(like))
                : like.getManager().create(new Shape(0), DataType.UINT8);
    }

    /** One 64-bit seed from the engine's CPU generator, so masks drawn on the JVM follow the engine's seeding. */
    private long drawSeed(NDArray owner) {
        try (NDArray bits = call(owner, "draw_seed", owner)) {
            return bits.toLongArray()[0];
        }
    }

    private static boolean onCpu(NDArray x) {
        return Device.Type.CPU.equals(x.getDevice().getDeviceType());
    }

    /** {@code x} converted to an ATen dtype code ({@link #FLOAT32}, {@link #BFLOAT16}); autograd casts gradients back. */
    public NDArray toDtype(NDArray x, int dtype) {
        return call(x, "to_dtype", x, (long) dtype);
    }

    /**
     * One AdamW step over a group of parameters sharing one weight decay, with PyTorch's fused CPU kernel
     * ({@code torch._fused_adamw_}, the arithmetic of {@code torch.optim.AdamW(fused=True)}): every gradient is
     * first multiplied by {@code gradScale} (unless it is 1), the parameters and both moments are updated in
     * place, and the gradients are zeroed when {@code zeroGrads} (they are the parameters' own accumulating buffers).
     * Runs without recording gradients.
     *
     * @param stateSteps per parameter a float32 scalar holding the step number (from 1), for the bias corrections
     */
    public void adamwGroup(List<NDArray> params, List<NDArray> grads, List<NDArray> expAvgs, List<NDArray> expAvgSqs,
                           List<NDArray> stateSteps, double lr, double beta1, double beta2, double weightDecay,
                           double eps, double gradScale, boolean zeroGrads) {
        run("adamw_group_", params, grads, expAvgs, expAvgSqs, stateSteps, lr, beta1, beta2, weightDecay, eps,
                gradScale, zeroGrads);
    }

    /**
     * The gradients of a scalar with respect to the given leaf arrays, back-propagated by autograd without
     * accumulating into (or needing) the arrays' own gradient buffers, as {@code torch.autograd.grad}; an input the
     * loss does not depend on gets zeros. The result arrays are fresh and owned by {@code loss}'s manager, in the
     * order of {@code inputs}, and contiguous: autograd may hand back a gradient in another layout than its
     * parameter's (a transposed view, for a factor that entered a product transposed), and the fused AdamW kernel
     * ({@link #adamwGroup}) walks parameter and gradient memory in the same flat order. ({@code backward} into the
     * arrays' own buffers copies into the parameter's layout itself.)
     */
    public NDArray[] gradients(NDArray loss, List<NDArray> inputs) {
        return callList(loss, "gradients", loss, inputs);
    }

    /**
     * The Euclidean norm of all the given tensors taken together, as {@code torch.nn.utils.clip_grad_norm_} computes
     * it (per-tensor norms, then the norm of those), as a float32 scalar owned by {@code owner}'s manager.
     */
    public NDArray globalNorm(NDArray owner, List<NDArray> tensors) {
        return call(owner, "global_norm", tensors);
    }

    /**
     * Runs one method of the module and returns its single tensor result, owned by {@code owner}'s manager.
     * Arguments may be arrays, booleans, integers (as {@code Long} or {@code Integer}), doubles or floats, and
     * lists of arrays.
     */
    public NDArray call(NDArray owner, String method, Object... args) {
        IValue result = invoke(method, args);
        try {
            return result.toTensor((PtNDManager) owner.getManager());
        } finally {
            result.close();
        }
    }

    /** Runs one method that returns a list of tensors; the arrays belong to {@code owner}'s manager. */
    public NDArray[] callList(NDArray owner, String method, Object... args) {
        IValue result = invoke(method, args);
        try {
            return result.toTensorArray((PtNDManager) owner.getManager());
        } finally {
            result.close();
        }
    }

    /** Runs one method for its side effects (in-place updates); its result is discarded. */
    public void run(String method, Object... args) {
        invoke(method, args).close();
    }

    private IValue invoke(String method, Object... args) {
        List<IValue> inputs = new ArrayList<>(args.length);
        try {
            long[] handles = new long[args.length];
            for (int i = 0; i < args.length; i++) {
                IValue v = toIValue(method, i, args[i]);
                inputs.add(v);
                handles[i] = v.getHandle();
            }
            // libtorch's graph executor profiles a method's first calls and then rewrites its graph (symbolic
            // autodiff subgraphs), so the arithmetic of a call would depend on how many calls came before it in this
            // process and a resumed run would drift from an uninterrupted one; the switch is per thread
            JniUtils.setGraphExecutorOptimize(false);
            long out = (long) runMethod.invoke(library, module.getHandle(), method, handles, true, false);
            return ivalue.newInstance(out);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("TorchScript method " + method + " failed", cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("could not call TorchScript method " + method, e);
        } finally {
            inputs.forEach(IValue::close);
        }
    }

    @SuppressWarnings("unchecked")
    private static IValue toIValue(String method, int index, Object arg) {
        if (arg instanceof NDArray a) {
            return IValue.from((PtNDArray) a);
        } else if (arg instanceof Boolean b) {
            return IValue.from(b);
        } else if (arg instanceof Long l) {
            return IValue.from(l);
        } else if (arg instanceof Integer n) {
            return IValue.from(n.longValue());
        } else if (arg instanceof Double d) {
            return IValue.from(d);
        } else if (arg instanceof Float f) {
            return IValue.from(f.doubleValue());
        } else if (arg instanceof List<?> list) {
            return IValue.listFrom(((List<NDArray>) list).stream().map(PtNDArray.class::cast)
                    .toArray(PtNDArray[]::new));
        }
        throw new IllegalArgumentException("argument " + index + " of TorchScript method " + method + " is a "
                + (arg == null ? "null" : arg.getClass().getName()) + "; arrays, booleans, numbers and lists of "
                + "arrays are supported");
    }

    /** The TorchScript archive: a zip of the pickled module, its code and the format version, stored uncompressed. */
    static byte[] archive() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            store(zip, "data.pkl", DATA_PKL);
            store(zip, "code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
            store(zip, "constants.pkl", CONSTANTS_PKL);
            store(zip, "version", "3\n".getBytes(StandardCharsets.US_ASCII));
            store(zip, "byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void store(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(ARCHIVE + name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        e.setTime(315532800000L); // 1980-01-01, so the archive's bytes never depend on the clock
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    private static byte[] pickleModule() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80);
        p.write(2); // protocol 2
        p.writeBytes("c__torch__\nOps\n".getBytes(StandardCharsets.US_ASCII)); // GLOBAL __torch__.Ops
        p.writeBytes(new byte[] {'q', 0, ')', (byte) 0x81, '}', '('}); // BINPUT 0, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        p.write('X'); // BINUNICODE with a 4-byte little-endian length
        p.writeBytes(new byte[] {(byte) key.length, 0, 0, 0});
        p.writeBytes(key);
        p.writeBytes(new byte[] {'q', 1, (byte) 0x88, 'u', 'b', 'q', 2, '.'}); // BINPUT 1, True, SETITEMS, BUILD, BINPUT 2, STOP
        return p.toByteArray();
    }
}
