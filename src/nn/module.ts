// Module: a named tree of parameters, the way PyTorch's nn.Module names them, so checkpoint names map 1:1.
// Linear weights are stored transposed ([in, out]) for the fast 2-D matmul on wasm (DESIGN 5); `transposed`
// records that, and the state dict converts to and from the checkpoint layout ([out, in]).
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";

export interface Param {
  readonly variable: tf.Variable;
  /** Stored as the transpose of the checkpoint's 2-D layout. */
  readonly transposed: boolean;
}

/** A tensor as read from or written to a checkpoint: checkpoint layout, fp32. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export abstract class Module {
  private readonly ownParams = new Map<string, Param>();
  private readonly children = new Map<string, Module>();

  protected addParam(name: string, value: tf.Tensor, transposed = false): tf.Variable {
    if (this.ownParams.has(name) || this.children.has(name)) throw new Error(`duplicate parameter name ${name}`);
    const variable = tf.variable(value, true);
    value.dispose();
    this.ownParams.set(name, { variable, transposed });
    return variable;
  }

  protected addChild<M extends Module>(name: string, child: M): M {
    if (this.ownParams.has(name) || this.children.has(name)) throw new Error(`duplicate child name ${name}`);
    this.children.set(name, child);
    return child;
  }

  /** All parameters with their checkpoint names, depth first in registration order. */
  namedParams(prefix = ""): Map<string, Param> {
    const out = new Map<string, Param>();
    for (const [name, p] of this.ownParams) out.set(prefix + name, p);
    for (const [name, child] of this.children) {
      for (const [n, p] of child.namedParams(`${prefix}${name}.`)) out.set(n, p);
    }
    return out;
  }

  /** Trainable variables by checkpoint name (what an optimizer steps). */
  trainableVariables(prefix = ""): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [n, p] of this.namedParams(prefix)) if (p.variable.trainable) out.set(n, p.variable);
    return out;
  }

  /** Freezes or unfreezes every parameter below this module. */
  setTrainable(trainable: boolean): this {
    for (const p of this.namedParams().values()) p.variable.trainable = trainable;
    return this;
  }

  numParams(): number {
    let n = 0;
    for (const p of this.namedParams().values()) n += p.variable.size;
    return n;
  }

  /** Parameters in checkpoint layout, as host arrays. */
  stateDict(prefix = ""): Map<string, HostTensor> {
    const out = new Map<string, HostTensor>();
    for (const [name, p] of this.namedParams(prefix)) {
      const data = p.variable.dataSync() as Float32Array;
      if (p.transposed) {
        const [rows, cols] = p.variable.shape as number[]; // stored [in, out]
        out.set(name, { shape: [cols, rows], data: transpose2d(data, rows, cols) });
      } else {
        out.set(name, { shape: p.variable.shape.slice(), data: Float32Array.from(data) });
      }
    }
    return out;
  }

  /**
   * Assigns parameters from a checkpoint (checkpoint layout). Every parameter must be present with the right
   * shape; `source` names the checkpoint in messages. Returns the names in `weights` that were not used.
   */
  loadStateDict(weights: ReadonlyMap<string, HostTensor>, source: string, prefix = ""): string[] {
    const missing: string[] = [];
    for (const [name, p] of this.namedParams(prefix)) {
      const w = weights.get(name);
      if (w) assignParam(name, p, w, source);
      else missing.push(name);
    }
    throwIfMissing(missing, source);
    const used = new Set(this.namedParams(prefix).keys());
    return [...weights.keys()].filter((k) => k.startsWith(prefix) && !used.has(k));
  }

  /**
   * Like loadStateDict, but reads one tensor at a time from a lazy store (a safetensors directory), so loading
   * needs about one model's worth of memory, not two.
   */
  async loadFromStore(store: TensorStore, source: string, prefix = ""): Promise<string[]> {
    const missing: string[] = [];
    for (const [name, p] of this.namedParams(prefix)) {
      if (!store.has(name)) {
        missing.push(name);
        continue;
      }
      assignParam(name, p, await store.read(name), source);
    }
    throwIfMissing(missing, source);
    const used = new Set(this.namedParams(prefix).keys());
    return store.names().filter((k) => k.startsWith(prefix) && !used.has(k));
  }

  dispose(): void {
    for (const p of this.namedParams().values()) p.variable.dispose();
  }
}

/** What loadFromStore reads from: names, presence, and one tensor at a time. */
export interface TensorStore {
  names(): string[];
  has(name: string): boolean;
  read(name: string): Promise<HostTensor>;
}

function assignParam(name: string, p: Param, w: HostTensor, source: string): void {
  const shape = p.variable.shape as number[];
  const want = p.transposed ? [shape[1], shape[0]] : shape;
  if (w.shape.length !== want.length || w.shape.some((d, i) => d !== want[i])) {
    throw new FavchatError(
      `${source}: tensor ${name} has shape [${w.shape.join(", ")}] but the config expects [${want.join(", ")}]; ` +
        `the checkpoint does not match its config.json`,
    );
  }
  const data = p.transposed ? transpose2d(w.data, want[0], want[1]) : w.data;
  tf.tidy(() => p.variable.assign(tf.tensor(data, shape, "float32")));
}

function throwIfMissing(missing: string[], source: string): void {
  if (missing.length === 0) return;
  throw new FavchatError(
    `${source}: ${missing.length} parameter(s) missing from the checkpoint, e.g. ${missing.slice(0, 5).join(", ")}; is this the right model directory?`,
  );
}

/** [rows, cols] row-major -> [cols, rows] row-major. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}
