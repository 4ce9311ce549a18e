// Every CLI command, in the order `favchat --help` lists them. Add one line per command.
import type { Command } from "commander";
import { register as synth } from "./synth.ts";
import { register as data } from "./data.ts";
import { register as lm } from "./lm.ts";
import { register as chat } from "./chat.ts";
import { register as train } from "./train.ts";
import { register as evaluate } from "./eval.ts";
import { register as probe } from "./probe.ts";
import { register as faces } from "./faces.ts";
import { register as score } from "./score.ts";

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [chat, train, evaluate, lm, synth, data, probe, faces, score];
