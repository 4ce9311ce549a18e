// `favchat chat [--model DIR] --video FILE [QUESTION]`: the main job. Reads the video, finds the main face, and
// answers the question (or, without one, opens a conversation about the video in the terminal).
import type { Command } from "commander";
import { createInterface } from "node:readline";
import { tf, type BackendName } from "../../core/backend.ts";
import { FavchatError } from "../../core/errors.ts";
import { encodeQuestion, firstTurnContent, parseReply, questionText } from "../../data/chat-format.ts";
import { pixelsFromVideo } from "../../data/clip-pixels.ts";
import { pixelTensors } from "../../data/collate.ts";
import { answerVideo } from "../../model/answer.ts";
import { loadFavchat } from "../../model/load.ts";
import { loadTokenizer } from "../../text/tokenizer.ts";
import type { ChatMessage } from "../../text/chat.ts";
import { loadClip } from "../../video/clip.ts";
import { FaceDetector } from "../../video/faces/detect.ts";
import { DEFAULT_MODEL } from "../defaults.ts";
import { backendFromGlobals, parseFloatOption, parseIntOption } from "../options.ts";
import { ffmpegFromEnv } from "./probe.ts";

interface ChatFlags {
  model: string;
  video?: string;
  reason?: boolean;
  maxTokens: number;
  temperature: number;
  seed: number;
  faceCrop: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("chat")
    .description("ask about a face video: answers with the shipped model (or --model DIR); no question opens a conversation")
    .argument("[question...]", "the question; omit it to chat in the terminal")
    .option("--model <dir>", "favchat model directory", DEFAULT_MODEL)
    .option("--video <file>", "the video (any format ffmpeg reads, or a folder of images)")
    .option("--reason", "ask for the reasoning: <think>...</think> before the answer")
    .option("--max-tokens <n>", "longest answer in tokens", parseIntOption("--max-tokens", 1), 200)
    .option("--temperature <t>", "0 = greedy", parseFloatOption("--temperature", 0, 10), 0)
    .option("--seed <s>", "sampling seed", parseIntOption("--seed", 0), 0)
    .option("--no-face-crop", "no face detection: the facial encoder sees whole frames")
    .option("--json", "print {answer, think, w_general, w_face, au_readout, attribute_readout, emotion_readout, frames, timings} as JSON")
    .action(async (words: string[], o: ChatFlags, cmd: Command) => {
      // 1. Inputs.
      const question = words.join(" ").trim();
      if (!o.video) throw new FavchatError(`a question needs a video: favchat chat --video FILE ${question ? JSON.stringify(question) : "[QUESTION]"}`);
      const t0 = performance.now();
      const backend = await backendFromGlobals(cmd);
      // 2. Model, then the video: decode, faces, crops.
      const model = await loadFavchat(o.model);
      model.llm.freezeForInference();
      const tok = loadTokenizer(o.model);
      const tLoad = performance.now();
      const detector = o.faceCrop ? await FaceDetector.create({ backend: backend as BackendName }) : undefined;
      const clip = await loadClip(o.video, { ffmpeg: ffmpegFromEnv(), detector }, {
        sample: { mode: "uniform", frames: model.config.maxFrames },
        size: model.config.face.imageSize,
        faceCrop: o.faceCrop,
      });
      detector?.dispose();
      const px = pixelsFromVideo(clip, { frames: model.config.maxFrames, frameSize: model.config.vision.imageSize, faceSize: model.config.face.imageSize });
      const pixels = pixelTensors(px);
      const tVideo = performance.now();
      const decode = (ids: number[]) => tok.decode(ids, { skipSpecialTokens: true });

      // 3. One answer per question; the conversation so far goes with each (the video stays in the first turn).
      const history: ChatMessage[] = [];
      const ask = async (q: string, onText?: (t: string) => void) => {
        const turn = { question: q, reason: o.reason };
        const first = history.length === 0;
        const messages: ChatMessage[] = [...history, { role: "user", content: first ? firstTurnContent(questionText(turn), model.config.videoPosition) : questionText(turn) }];
        const asked = encodeQuestion(tok, turn, model.config.videoPosition); // the first turn's ids, and the prompt for the visual modules
        const ids = first ? asked.ids : tok.encodeChat(messages, { addGenerationPrompt: true }).ids;
        const promptIds = asked.promptIds;
        const r = await answerVideo(model, { ...pixels, ids, promptIds }, {
          maxTokens: o.maxTokens, temperature: o.temperature, seed: o.seed, stopTokens: tok.eosIds, decode,
          onToken: onText ? (_id, text) => onText(text) : undefined,
        });
        history.push(messages[messages.length - 1], { role: "assistant", content: r.text });
        return r;
      };

      try {
        if (question) {
          const r = await ask(question);
          const reply = parseReply(r.text);
          const tEnd = performance.now();
          if (o.json) {
            const out = {
              question, answer: reply.answer, think: reply.think, text: r.text,
              w_general: r.wGeneral, w_face: r.wFace,
              // Models with the AU read-out token (config "au_readout"): what it told the LLM, and its head's view of every AU.
              au_readout: r.auReadout && { asked_au: r.auReadout.asked, asked_probability: r.auReadout.askedProbability, p_active: r.auReadout.active, au_probabilities: r.auReadout.aus },
              // Models with the attribute read-out token (config "attribute_readout"): the attribute it took the question to ask about, and its head's likeliest value of each.
              attribute_readout: r.attributeReadout && { asked_attribute: r.attributeReadout.asked, asked_probability: r.attributeReadout.askedProbability, values: r.attributeReadout.values },
              // Models with the emotion read-out token (config "emotion_readout"): its head's likeliest emotion and every emotion's probability.
              emotion_readout: r.emotionReadout && { emotion: r.emotionReadout.emotion, probability: r.emotionReadout.probability, probabilities: r.emotionReadout.probabilities },
              frames: clip.times.map((t, i) => ({ timeSec: t, box: clip.boxes[i], window: clip.meta.track[i]?.window ?? null })),
              faces_detected: clip.meta.detectedFrames,
              timings: {
                load_model_sec: (tLoad - t0) / 1000,
                decode_sec: ((clip.meta.timings?.probe ?? 0) + (clip.meta.timings?.decode ?? 0)) / 1000,
                faces_sec: (tVideo - tLoad) / 1000 - ((clip.meta.timings?.probe ?? 0) + (clip.meta.timings?.decode ?? 0)) / 1000,
                encoders_sec: r.encodeSec,
                generate_sec: r.prefillSec + r.decodeSec,
                total_sec: (tEnd - t0) / 1000,
              },
            };
            process.stdout.write(JSON.stringify(out) + "\n");
          } else {
            if (reply.think) process.stdout.write(`(thinking) ${reply.think}\n`);
            process.stdout.write(`${reply.answer}\n`);
          }
          return;
        }
        // 4. A conversation in the terminal.
        process.stderr.write(`favchat: ${clip.frames.length} frames of ${o.video}, face in ${clip.meta.detectedFrames}; ask a question (empty line or Ctrl-D to quit)\n`);
        // Lines are read through the interface's iterator, which buffers them: piped questions that arrive while an
        // answer is being generated are kept (rl.question() dropped them and ended the conversation after one answer).
        const rl = createInterface({ input: process.stdin, output: process.stdin.isTTY ? process.stderr : undefined, terminal: Boolean(process.stdin.isTTY) });
        const lines = rl[Symbol.asyncIterator]();
        try {
          for (;;) {
            process.stderr.write("you> ");
            const next = await lines.next();
            if (next.done) break; // end of input
            const line = next.value.trim();
            if (!line) break;
            let shown = 0;
            process.stdout.write("favchat> ");
            const r = await ask(line, (text) => {
              const ready = text.replace(/\uFFFD+$/, "");
              if (ready.length > shown) process.stdout.write(ready.slice(shown));
              shown = Math.max(shown, ready.length);
            });
            if (r.text.length > shown) process.stdout.write(r.text.slice(shown));
            process.stdout.write("\n");
          }
        } finally {
          rl.close();
        }
      } finally {
        tf.dispose([pixels.frames, pixels.faces]);
        model.dispose();
      }
    });
}
