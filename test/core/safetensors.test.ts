// safetensors: round trip, F16/BF16 decoding, every malformed-file case (files made here, at test time),
// and a cross-check against the files PyTorch wrote in test/fixtures/qwen2 (bench/reference/qwen2_reference.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FavchatError } from "../../src/core/errors.ts";
import {
  SafetensorsDir,
  SafetensorsFile,
  loadSafetensorsDir,
  readSafetensors,
  writeSafetensors,
} from "../../src/core/safetensors.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "qwen2");

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "favchat-st-"));
}

/** A raw safetensors file: header object, data bytes, and optionally a lying header length. */
function rawFile(path: string, header: unknown, data: Uint8Array, headerLen?: bigint, headerText?: string): string {
  const json = Buffer.from(headerText ?? JSON.stringify(header), "utf8");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(headerLen ?? BigInt(json.length));
  writeFileSync(path, Buffer.concat([prefix, json, data]));
  return path;
}

/** Asserts a FavchatError whose message contains every fragment (file name, tensor name, cause). */
async function rejectsWith(p: Promise<unknown>, ...fragments: string[]) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FavchatError, `expected FavchatError, got ${String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `message lacks "${f}": ${e.message}`);
    return true;
  });
}

test("round trip: F32 tensors and __metadata__ come back exactly; no temp file is left", async () => {
  const dir = tmp();
  const path = join(dir, "w.safetensors");
  const a = Float32Array.from({ length: 6 }, (_, i) => i * 0.1 - 0.25);
  const b = Float32Array.from([Math.PI, -0, 1e-40, 3.4e38]);
  await writeSafetensors(path, new Map([["a.weight", { shape: [2, 3], data: a }], ["b", { shape: [4], data: b }], ["empty", { shape: [0, 5], data: new Float32Array(0) }]]), { format: "pt", step: "12" });
  const file = await SafetensorsFile.open(path);
  assert.deepEqual(file.metadata, { format: "pt", step: "12" });
  assert.deepEqual(file.names(), ["a.weight", "b", "empty"]);
  const all = await file.readAll();
  await file.close();
  assert.deepEqual(all.get("a.weight"), { dtype: "F32", shape: [2, 3], data: a });
  assert.deepEqual(all.get("b")?.data, b);
  assert.deepEqual(all.get("empty")?.shape, [0, 5]);
  assert.deepEqual(readdirSync(dir), ["w.safetensors"]);
  // Header padded to 8 bytes so the data that follows stays aligned.
  assert.equal(Number(readFileSync(path).readBigUInt64LE(0)) % 8, 0);

  // Overwriting replaces the whole file (a plain object works as input too).
  await writeSafetensors(path, { c: { shape: [1], data: Float32Array.of(7) } });
  const again = await readSafetensors(path);
  assert.deepEqual([...again.keys()], ["c"]);
  assert.deepEqual(again.get("c")?.data, Float32Array.of(7));
});

test("write refuses data that does not fill its shape", async () => {
  const path = join(tmp(), "bad.safetensors");
  await rejectsWith(writeSafetensors(path, { w: { shape: [2, 2], data: new Float32Array(3) } }), "w", "holds 4 values but data has 3");
});

test("F16 and BF16 decode to the right float32 values", async () => {
  const dir = tmp();
  // F16: 1, -2, 0.5, 65504 (max), 2^-24 (smallest subnormal), +inf, NaN, -0.
  const f16 = Uint16Array.of(0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x7e00, 0x8000);
  // BF16: 1, -2, 0.5, pi rounded (0x4049), 1e-40-ish subnormal, -inf.
  const bf16 = Uint16Array.of(0x3f80, 0xc000, 0x3f00, 0x4049, 0x0001, 0xff80);
  const bytes = new Uint8Array([...new Uint8Array(f16.buffer), ...new Uint8Array(bf16.buffer)]);
  const path = rawFile(join(dir, "h.safetensors"), {
    h: { dtype: "F16", shape: [8], data_offsets: [0, 16] },
    b: { dtype: "BF16", shape: [2, 3], data_offsets: [16, 28] },
  }, bytes);
  const t = await readSafetensors(path);
  const h = [...t.get("h")!.data];
  assert.deepEqual(h.slice(0, 5), [1, -2, 0.5, 65504, 2 ** -24]);
  assert.equal(h[5], Infinity);
  assert.ok(Number.isNaN(h[6]));
  assert.ok(Object.is(h[7], -0));
  const b = t.get("b")!;
  assert.equal(b.dtype, "BF16");
  assert.deepEqual(b.shape, [2, 3]);
  assert.deepEqual([...b.data.slice(0, 4)], [1, -2, 0.5, 3.140625]);
  assert.equal(b.data[4], new Float32Array(new Uint32Array([0x00010000]).buffer)[0]);
  assert.equal(b.data[5], -Infinity);
});

test("malformed files give a FavchatError naming the file and the tensor", async () => {
  const dir = tmp();
  const f = (name: string) => join(dir, name);
  const ok = { w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };

  writeFileSync(f("short.safetensors"), Buffer.from([1, 2, 3]));
  await rejectsWith(SafetensorsFile.open(f("short.safetensors")), "short.safetensors", "too short");

  await rejectsWith(SafetensorsFile.open(rawFile(f("len.safetensors"), ok, new Uint8Array(8), 10_000n)), "len.safetensors", "header length 10000 runs past the end");
  await rejectsWith(SafetensorsFile.open(rawFile(f("huge.safetensors"), ok, new Uint8Array(8), 2n ** 63n)), "huge.safetensors", "runs past the end");

  await rejectsWith(SafetensorsFile.open(rawFile(f("json.safetensors"), null, new Uint8Array(8), undefined, '{"w": {"dtype": "F32",')), "json.safetensors", "not valid JSON");
  await rejectsWith(SafetensorsFile.open(rawFile(f("arr.safetensors"), [1, 2], new Uint8Array(0))), "arr.safetensors", "must be an object");

  const dtype = { w: { dtype: "Q7", shape: [2], data_offsets: [0, 8] } };
  await rejectsWith(SafetensorsFile.open(rawFile(f("dtype.safetensors"), dtype, new Uint8Array(8))), "dtype.safetensors", 'tensor "w"', 'unknown dtype "Q7"');
  const i64 = { idx: { dtype: "I64", shape: [1], data_offsets: [0, 8] } };
  await rejectsWith(SafetensorsFile.open(rawFile(f("i64.safetensors"), i64, new Uint8Array(8))), 'tensor "idx"', 'unsupported dtype "I64"');

  const count = { w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } };
  await rejectsWith(SafetensorsFile.open(rawFile(f("count.safetensors"), count, new Uint8Array(12))), "count.safetensors", 'tensor "w"', "needs 12 bytes", "span 8");

  const overlap = { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } };
  await rejectsWith(SafetensorsFile.open(rawFile(f("overlap.safetensors"), overlap, new Uint8Array(12))), "overlap.safetensors", 'tensor "b"', 'tensor "a"', "overlap");

  const range = { w: { dtype: "F32", shape: [4], data_offsets: [8, 24] } };
  await rejectsWith(SafetensorsFile.open(rawFile(f("range.safetensors"), range, new Uint8Array(16))), "range.safetensors", 'tensor "w"', "run past the 16 data bytes");

  const reversed = { w: { dtype: "F32", shape: [0], data_offsets: [8, 0] } };
  await rejectsWith(SafetensorsFile.open(rawFile(f("rev.safetensors"), reversed, new Uint8Array(8))), 'tensor "w"', "data_offsets must be");
  const badShape = { w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } };
  await rejectsWith(SafetensorsFile.open(rawFile(f("shape.safetensors"), badShape, new Uint8Array(4))), 'tensor "w"', "shape must be");
  const badMeta = { __metadata__: { step: 3 }, ...ok };
  await rejectsWith(SafetensorsFile.open(rawFile(f("meta.safetensors"), badMeta, new Uint8Array(8))), "meta.safetensors", "__metadata__");

  await rejectsWith(SafetensorsFile.open(f("missing.safetensors")), "cannot open", "missing.safetensors");

  const good = await SafetensorsFile.open(rawFile(f("good.safetensors"), ok, new Uint8Array(8)));
  await rejectsWith(good.read("nope"), '"nope"', "good.safetensors");
  await good.close();
});

test("sharded directory: index.json naming a missing shard or a tensor the shard lacks is refused", async () => {
  const dir = tmp();
  const t = { shape: [2], data: Float32Array.of(1, 2) };
  await writeSafetensors(join(dir, "model-00001-of-00002.safetensors"), { a: t });
  await writeSafetensors(join(dir, "model-00002-of-00002.safetensors"), { b: t });
  const index = (weightMap: Record<string, string>) =>
    writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));

  index({ a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" });
  const all = await loadSafetensorsDir(dir);
  assert.deepEqual([...all.keys()], ["a", "b"]);
  // A single model.safetensors beside the index wins, as in transformers.
  const single = tmp();
  await writeSafetensors(join(single, "model.safetensors"), { only: t });
  writeFileSync(join(single, "model.safetensors.index.json"), JSON.stringify({ weight_map: { a: "gone.safetensors" } }));
  assert.deepEqual([...(await loadSafetensorsDir(single)).keys()], ["only"]);

  index({ a: "model-00001-of-00002.safetensors", b: "model-00003-of-00003.safetensors" });
  await rejectsWith(loadSafetensorsDir(dir), "model.safetensors.index.json", '"b"', "model-00003-of-00003.safetensors", "does not exist");

  index({ a: "model-00001-of-00002.safetensors", c: "model-00002-of-00002.safetensors" });
  await rejectsWith(loadSafetensorsDir(dir), '"c"', "model-00002-of-00002.safetensors", "no such tensor");

  index({ a: "../model-00001-of-00002.safetensors" });
  await rejectsWith(loadSafetensorsDir(dir), "not a plain file name");

  writeFileSync(join(dir, "model.safetensors.index.json"), "{not json");
  await rejectsWith(loadSafetensorsDir(dir), "model.safetensors.index.json");
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ shards: [] }));
  await rejectsWith(loadSafetensorsDir(dir), "weight_map");

  await rejectsWith(loadSafetensorsDir(tmp()), "no weights in", "model.safetensors");
});

test("PyTorch-written fixtures read back bit for bit (F32, F16, BF16, sharded)", async () => {
  for (const variant of ["gqa", "mha_tied", "bias", "fp16", "bf16", "sharded"]) {
    const dir = join(FIXTURES, variant);
    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as {
      dtype: string;
      weights_check: Record<string, { shape: number[]; sum: number; first: number[] }>;
    };
    // Lazy view first: dtype and shape without reading data.
    const store = await SafetensorsDir.open(dir);
    assert.deepEqual(store.names().sort(), Object.keys(expected.weights_check).sort(), variant);
    assert.equal(store.info("model.norm.weight")?.dtype, expected.dtype, variant);
    await store.close();

    const tensors = await loadSafetensorsDir(dir);
    for (const [name, want] of Object.entries(expected.weights_check)) {
      const got = tensors.get(name)!;
      assert.deepEqual(got.shape, want.shape, `${variant} ${name}`);
      assert.deepEqual([...got.data.slice(0, 4)], want.first, `${variant} ${name} first values`);
      let sum = 0;
      for (const v of got.data) sum += v;
      assert.ok(Math.abs(sum - want.sum) <= 1e-9 * (1 + Math.abs(want.sum)), `${variant} ${name}: sum ${sum} vs ${want.sum}`);
    }
  }
});
