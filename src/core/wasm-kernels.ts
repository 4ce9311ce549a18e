// Kernels registered over or beside tfjs-backend-wasm's own where its JavaScript side copies far more than it
// must (DESIGN 5): Identity (autodiff clones every tensor it saves for the backward pass; a copy on wasm, a
// shared buffer on the cpu backend), Cast to the same dtype (a copy too; every mul's gradient makes one),
// Slice (copies the whole input before cutting out its part), Transpose of the last two axes of 32-bit data
// (src/core/adamw.wat's SIMD transpose, 5-8x faster than the backend's loop; Linear's backward transposes every
// weight and input), and new kernels: a one-copy unstack along axis 0, a swap of the last dim's halves and a batched
// matmul that runs every batch entry in one kernel call (adamw.wat's, bit-identical to XNNPACK's 2-D one). tfjs
// tensors are immutable, so sharing a buffer is safe.
// Imported for its effect by backend.ts.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { heapOffset, kernelsFor, type WasmBackendLike } from "./wasm-adamw.ts";

/** The methods of tfjs-backend-wasm's BackendWasm that these kernels use. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: tf.DataId): void;
}

/**
 * Registers `kernelFunc` for `name` on wasm, replacing the backend's own kernel if it has one. The own kernel's
 * setup still runs when the backend starts: the fallbacks below call it, and other wasm kernels call its function.
 */
function override(name: string, kernelFunc: tf.KernelFunc): void {
  const own = tf.getKernel(name, "wasm");
  if (own !== undefined) tf.unregisterKernel(name, "wasm");
  tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc, setupFunc: own?.setupFunc });
}

const wasmIdentity = tf.getKernel(tf.Identity, "wasm");
const wasmSlice = tf.getKernel(tf.Slice, "wasm");
const wasmCast = tf.getKernel(tf.Cast, "wasm");
const wasmTranspose = tf.getKernel(tf.Transpose, "wasm");

override(tf.Identity, (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === "string") return wasmIdentity!.kernelFunc(args);
  (args.backend as unknown as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
});

override(tf.Cast, (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (x.dtype !== dtype || dtype === "string") return wasmCast!.kernelFunc(args);
  (args.backend as unknown as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype };
});

override(tf.Slice, (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === "string") return wasmSlice!.kernelFunc(args);
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  const backend = args.backend as unknown as WasmBackend;
  const out = backend.makeOutput(s, x.dtype);
  // Views only after the allocation above: an allocation can grow (and so replace) the wasm heap.
  copySlice(backend.typedArrayFromHeap(x), x.shape, b, s, backend.typedArrayFromHeap(out));
  return out;
});

override(tf.Transpose, (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  const r = x.shape.length;
  const kernels = kernelsFor(args.backend as unknown as WasmBackendLike);
  // Only a swap of the last two axes (perm [0, ..., r-1, r-2]) of float32/int32; anything else is the backend's.
  const lastTwo = r >= 2 && perm[r - 2] === r - 1 && perm[r - 1] === r - 2 && perm.slice(0, r - 2).every((p, i) => p === i);
  if (!lastTwo || !kernels || (x.dtype !== "float32" && x.dtype !== "int32")) return wasmTranspose!.kernelFunc(args);
  const backend = args.backend as unknown as WasmBackendLike;
  const out = backend.makeOutput(perm.map((p) => x.shape[p]), x.dtype);
  const rows = x.shape[r - 2];
  const cols = x.shape[r - 1];
  const src = heapOffset(backend, x);
  const dst = heapOffset(backend, out);
  const bytes = rows * cols * 4;
  const count = rows * cols === 0 ? 0 : x.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  for (let m = 0; m < count; m++) kernels.transpose(src + m * bytes, dst + m * bytes, rows, cols);
  return out;
});

/** Copies the box begin/size of src (shape `shape`, row-major) into dst, one contiguous run at a time. */
function copySlice(src: Float32Array | Int32Array | Uint8Array, shape: number[], begin: number[], size: number[], dst: typeof src): void {
  const rank = shape.length;
  if (size.some((d) => d === 0)) return;
  const strides = new Array<number>(rank);
  for (let j = rank - 1, st = 1; j >= 0; j--) {
    strides[j] = st;
    st *= shape[j];
  }
  // Dims from `k` on form one contiguous run: every dim after k is taken whole.
  let k = rank - 1;
  while (k > 0 && size[k] === shape[k]) k--;
  const run = size.slice(k).reduce((p, d) => p * d, 1);
  const idx = new Array<number>(k).fill(0);
  const runs = dst.length / run;
  for (let r = 0; r < runs; r++) {
    let off = begin[k] * strides[k];
    for (let j = 0; j < k; j++) off += (begin[j] + idx[j]) * strides[j];
    const o = r * run;
    if (run < 32) for (let e = 0; e < run; e++) dst[o + e] = src[off + e];
    else dst.set(src.subarray(off, off + run), o);
    for (let j = k - 1; j >= 0; j--) {
      if (++idx[j] < size[j]) break;
      idx[j] = 0;
    }
  }
}

/** Kernel name of `unstack0`. */
const UNSTACK = "FavchatUnstack";

override(UNSTACK, ({ inputs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  const wasm = backend as unknown as WasmBackend;
  const [n, ...rest] = x.shape;
  const size = rest.reduce((p, d) => p * d, 1);
  const outs = Array.from({ length: n }, () => wasm.makeOutput(rest, x.dtype));
  const src = wasm.typedArrayFromHeap(x);
  outs.forEach((o, i) => wasm.typedArrayFromHeap(o).set(src.subarray(i * size, (i + 1) * size)));
  return outs;
});

/**
 * x [N, ...] -> N tensors [...]. On wasm one copy of x in all (its Unpack slices N times); elsewhere tf.unstack.
 * No gradient: use it inside a customGrad.
 */
export function unstack0(x: tf.Tensor): tf.Tensor[] {
  if (tf.getBackend() !== "wasm" || x.dtype === "string") return tf.unstack(x);
  return tf.engine().runKernel(UNSTACK, { x }) as unknown as tf.Tensor[];
}

/** Kernel name of `swapHalves`. */
const SWAP_HALVES = "FavchatSwapHalves";

override(SWAP_HALVES, ({ inputs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  const wasm = backend as unknown as WasmBackend;
  const out = wasm.makeOutput(x.shape, x.dtype);
  const src = wasm.typedArrayFromHeap(x);
  const dst = wasm.typedArrayFromHeap(out);
  const last = x.shape[x.shape.length - 1];
  const half = last / 2;
  for (let row = 0; row < src.length; row += last) {
    for (let i = 0; i < half; i++) {
      dst[row + i] = src[row + half + i];
      dst[row + half + i] = src[row + i];
    }
  }
  return out;
});

/**
 * x [..., 2h] with the two halves of its last dim swapped: [..., h:2h, 0:h] (RoPE's rotate_half without the
 * sign). One pass on wasm, where a gather by a permutation is ~50x slower; slices and a concat elsewhere.
 * Its own inverse. No gradient: use it inside a customGrad.
 */
export function swapHalves(x: tf.Tensor): tf.Tensor {
  const last = x.shape[x.rank - 1];
  if (last % 2 !== 0) throw new Error(`swapHalves: last dim must be even, got shape [${x.shape.join(", ")}]`);
  if (tf.getBackend() !== "wasm" || x.dtype === "string") {
    const h = last / 2;
    const begin = x.shape.map(() => 0);
    const size = x.shape.map(() => -1);
    return tf.concat([tf.slice(x, [...begin.slice(0, -1), h], [...size.slice(0, -1), h]), tf.slice(x, begin, [...size.slice(0, -1), h])], -1);
  }
  return tf.engine().runKernel(SWAP_HALVES, { x }) as tf.Tensor;
}

/** Kernel name of `batchedMatMul`. */
const BATCHED_MATMUL = "FavchatBatchedMatMul";

override(BATCHED_MATMUL, ({ inputs, backend }) => {
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const wasm = backend as unknown as WasmBackendLike;
  const [n, m, k] = a.shape;
  const p = b.shape[2];
  const out = wasm.makeOutput([n, m, p], "float32");
  const kernels = kernelsFor(wasm)!;
  const [pa, pb, pc] = [heapOffset(wasm, a), heapOffset(wasm, b), heapOffset(wasm, out)];
  for (let i = 0; i < n; i++) kernels.matmul(pa + i * m * k * 4, pb + i * k * p * 4, pc + i * m * p * 4, m, k, p);
  return out;
});

/**
 * a [N, M, K] @ b [N, K, P] -> [N, M, P] (float32) in one kernel call on wasm: each entry a 2-D matmul whose every
 * element is bit-identical to tfjs-backend-wasm's own 2-D (XNNPACK) matmul of that entry, without the N + 3 kernel
 * calls of unstacking, multiplying and stacking; null where it cannot run (another backend, no kernels module).
 * No gradient: use it inside a customGrad.
 */
export function batchedMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D | null {
  if (tf.getBackend() !== "wasm" || a.dtype !== "float32" || b.dtype !== "float32") return null;
  if (kernelsFor(tf.backend() as unknown as WasmBackendLike) === null) return null;
  if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(`batchedMatMul: operands do not match, got a [${a.shape.join(", ")}] and b [${b.shape.join(", ")}]`);
  }
  return tf.engine().runKernel(BATCHED_MATMUL, { a, b }) as tf.Tensor3D;
}
