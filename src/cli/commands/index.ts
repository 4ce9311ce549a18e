// Every CLI command, in the order `favchat --help` lists them. Add one line per command.
import type { Command } from "commander";

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [];
