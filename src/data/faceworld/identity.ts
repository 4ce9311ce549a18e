// Who is in a FaceWorld clip: discrete appearance attributes (58 values over 12 attributes, named the
// way questions and summaries use them) plus continuous shape parameters. An identity is a pure function
// of (seed, index), so the same person looks the same in every clip they appear in.
import { Rng } from "../../core/rng.ts";

export const ATTRIBUTE_VALUES = {
  face_shape: ["oval", "round", "square", "long", "heart-shaped"],
  skin_tone: ["very light", "light", "medium", "olive", "brown", "dark"],
  hair_colour: ["black", "brown", "blond", "red", "grey", "white"],
  hair_style: ["bald", "buzz cut", "short", "long straight", "curly", "bun"],
  eyebrows: ["thin", "thick", "arched", "straight"],
  eye_colour: ["brown", "blue", "green", "grey", "hazel"],
  nose: ["small", "wide", "long", "pointed"],
  mouth: ["thin lips", "full lips", "wide mouth"],
  glasses: ["none", "round glasses", "rectangular glasses"],
  beard: ["none", "stubble", "goatee", "moustache", "full beard"],
  clothes: ["t-shirt", "collared shirt", "hoodie", "suit jacket", "sweater"],
  clothes_colour: ["red", "blue", "green", "black", "white", "yellow"],
} as const;

export type AttributeName = keyof typeof ATTRIBUTE_VALUES;
export type Attributes = { [K in AttributeName]: (typeof ATTRIBUTE_VALUES)[K][number] };

export const SKIN_RGB: Record<Attributes["skin_tone"], [number, number, number]> = {
  "very light": [244, 214, 196], light: [232, 190, 160], medium: [205, 156, 118],
  olive: [184, 140, 96], brown: [140, 96, 66], dark: [92, 60, 42],
};
export const HAIR_RGB: Record<Attributes["hair_colour"], [number, number, number]> = {
  black: [28, 24, 22], brown: [96, 62, 36], blond: [222, 190, 120], red: [170, 72, 36], grey: [150, 150, 150], white: [232, 232, 226],
};
export const EYE_RGB: Record<Attributes["eye_colour"], [number, number, number]> = {
  brown: [100, 60, 30], blue: [60, 120, 200], green: [70, 140, 80], grey: [130, 140, 150], hazel: [140, 110, 50],
};
export const CLOTHES_RGB: Record<Attributes["clothes_colour"], [number, number, number]> = {
  red: [190, 40, 40], blue: [40, 70, 170], green: [40, 130, 60], black: [30, 30, 34], white: [235, 235, 235], yellow: [225, 200, 50],
};

export interface Identity {
  id: string;
  index: number;
  attributes: Attributes;
  /** Face half-width and half-height in face units (1 = nominal half-width). */
  faceW: number;
  faceH: number;
  /** Eye spacing from the centre line, brow thickness, lip thickness, mouth half-width. */
  eyeX: number;
  browThick: number;
  lipThick: number;
  mouthW: number;
  /** Resting mouth-corner curve (+ up): some people look slightly happy or sad at rest, a confounder. */
  restCurve: number;
  /** Per-identity colour jitter so two people with the same skin tone are not pixel-identical. */
  skinJitter: [number, number, number];
}

export function identityId(index: number): string {
  return `fw-id-${String(index).padStart(4, "0")}`;
}

export function makeIdentity(seed: number, index: number): Identity {
  const rng = new Rng(seed).fork("identity", index);
  const attributes = {} as Record<string, string>;
  for (const [name, values] of Object.entries(ATTRIBUTE_VALUES)) attributes[name] = rng.pick(values);
  const a = attributes as Attributes;
  // Beards on about half the people only; glasses on a third: otherwise uniform picks make them too common.
  if (rng.bool(0.5)) a.beard = "none";
  if (rng.bool(0.4)) a.glasses = "none";
  const shape = a.face_shape;
  const faceW = shape === "round" ? 1.08 : shape === "long" ? 0.9 : shape === "square" ? 1.04 : 1;
  const faceH = shape === "round" ? 1.22 : shape === "long" ? 1.45 : shape === "heart-shaped" ? 1.3 : 1.32;
  return {
    id: identityId(index),
    index,
    attributes: a,
    faceW: faceW * rng.uniform(0.96, 1.04),
    faceH: faceH * rng.uniform(0.97, 1.03),
    eyeX: rng.uniform(0.36, 0.42),
    browThick: a.eyebrows === "thick" ? 0.09 : a.eyebrows === "thin" ? 0.035 : 0.06,
    lipThick: a.mouth === "full lips" ? 0.09 : a.mouth === "thin lips" ? 0.04 : 0.06,
    mouthW: a.mouth === "wide mouth" ? 0.38 : rng.uniform(0.28, 0.33),
    restCurve: rng.uniform(-0.025, 0.025),
    skinJitter: [rng.int(17) - 8, rng.int(17) - 8, rng.int(13) - 6],
  };
}
