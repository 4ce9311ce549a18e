// Progress for long work: a bar with ETA on a terminal (cli-progress), plain lines elsewhere (CI, logs),
// so a person always sees how far along a run is and when it will end.
import cliProgress from "cli-progress";

export interface Progress {
  /** Marks `done` units finished; `info` is shown beside the bar (e.g. "loss 1.234"). */
  update(done: number, info?: string): void;
  stop(): void;
}

export interface ProgressOptions {
  readonly label: string;
  readonly total: number;
  /** Units already done (a resumed run). */
  readonly start?: number;
  /** Draw a bar (a TTY) or print plain lines. */
  readonly tty: boolean;
  /** Plain mode: print a line every this many seconds at most (default 10). */
  readonly everySec?: number;
  readonly write?: (line: string) => void;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return "?";
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export function createProgress(opts: ProgressOptions): Progress {
  const start = opts.start ?? 0;
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      { format: `${opts.label} [{bar}] {value}/{total} | ETA {eta_formatted} | {info}`, hideCursor: true, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(opts.total, start, { info: "" });
    return { update: (done, info = "") => bar.update(done, { info }), stop: () => bar.stop() };
  }
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const t0 = performance.now();
  let last = -Infinity;
  let lastDone = start;
  const line = (done: number, info: string) => {
    const elapsed = (performance.now() - t0) / 1000;
    const rate = (done - start) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (opts.total - done) / rate : NaN;
    write(`${opts.label} ${done}/${opts.total} (${((100 * done) / opts.total).toFixed(0)}%) elapsed ${formatDuration(elapsed)} ETA ${formatDuration(eta)}${info ? ` | ${info}` : ""}`);
  };
  return {
    update: (done, info = "") => {
      lastDone = done;
      const now = performance.now();
      if (now - last >= (opts.everySec ?? 10) * 1000 || done >= opts.total) {
        last = now;
        line(done, info);
      }
    },
    stop: () => {
      if (lastDone < opts.total) line(lastDone, "stopped");
    },
  };
}
