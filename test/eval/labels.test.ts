// Answer-to-label mapping: a large table of plain, reasoning-style and adversarial answers for emotions
// (7 and 11 classes), option letters, yes/no and attribute values.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EMOTIONS11, labelOf, mapChoice, mapEmotion, mapYesNo, type LabelMatch } from "../../src/eval/labels.ts";

/** "happy" = that label, "multiple" / "none" = those kinds. */
const short = (m: LabelMatch): string => (m.kind === "label" ? m.label : m.kind);

const EMOTION_CASES: [string, string][] = [
  // plain labels, case and punctuation
  ["happy", "happy"], ["Happy.", "happy"], ["HAPPY!!!", "happy"], ["  sad  ", "sad"], ["Neutral", "neutral"],
  ["angry", "angry"], ["Surprise", "surprise"], ["disgust", "disgust"], ["fear", "fear"],
  // word forms and synonyms
  ["happiness", "happy"], ["The person looks joyful.", "happy"], ["She is smiling broadly.", "happy"],
  ["anger", "angry"], ["He is furious.", "angry"], ["The man seems mad at someone", "angry"],
  ["surprised", "surprise"], ["She looks astonished", "surprise"], ["disgusted", "disgust"],
  ["fearful", "fear"], ["The woman is scared.", "fear"], ["afraid", "fear"], ["frightened", "fear"],
  ["sadness", "sad"], ["unhappy", "sad"], ["The person appears downcast and tearful.", "sad"],
  ["calm, expressionless face", "neutral"], ["a happy-looking face", "happy"],
  ["The person is happy, smiling and joyful.", "happy"], // one label, many words
  ["Emotion: Happy", "happy"], ["The answer is sad.", "sad"],
  // negation
  ["not happy", "none"], ["The person is not happy.", "none"], ["The person isn't happy, they are sad.", "sad"],
  ["Not happy. Sad.", "sad"], ["happy, not sad", "happy"], ["not happy but angry", "angry"],
  ["Neither happy nor sad; the face is neutral.", "neutral"], ["neither happy nor sad", "none"],
  ["She does not look particularly happy", "none"], ["not unhappy", "none"],
  ["The person does not appear to be angry or sad; rather, they seem happy.", "happy"], ["not angry or sad", "none"],
  ["The person is surprised, not scared.", "surprise"], ["I would say the emotion is 'sad'.", "sad"],
  ["sad rather than angry", "sad"], ["angry instead of afraid", "angry"],
  ["The person shows no emotion.", "neutral"], ["He does not show any particular expression", "neutral"],
  ["without any expression", "neutral"], ["no happy expression", "none"],
  ["I'm not sure, but I think happy.", "happy"], ["There is no doubt: surprised", "surprise"],
  ["nothing but joy", "happy"], ["He wouldn't say angry; rather disgusted.", "disgust"],
  ["The person can't hide their fear", "none"], // "can't hide fear" reads as negated; strict rather than clever
  // several different labels: wrong, never the first
  ["happy and surprised", "multiple"], ["happy or sad", "multiple"], ["Mostly happy, slightly surprised", "multiple"],
  ["not only happy but also surprised", "multiple"], ["Sad. Angry. Fearful.", "multiple"],
  ["happy sad neutral angry surprise disgust fear", "multiple"],
  // no emotion named / near misses that must not match
  ["", "none"], ["I cannot tell.", "none"], ["The brows rise and the lips part.", "none"],
  ["fearless", "none"], ["sadistic", "none"], ["madness", "none"], ["unsurprisingly", "none"],
  ["The person is upset", "none"], // ambiguous word, left out on purpose
  // reasoning outputs: only the <answer> part counts
  ["<think>The brows rise (surprise? fear?) and then the lip corners pull up.</think><answer>happy</answer>", "happy"],
  ["<think>Could be sad or angry.</think> The final answer is angry.", "angry"],
  ["<think>AU1 and AU4 suggest sadness</think><answer>The person is sad.</answer><|im_end|>", "sad"],
  ["<answer>fear</answer> ... <answer>surprise</answer>", "surprise"], // the last complete answer
  ["<think>happy? surprised?", "none"], // cut off while thinking: no answer
  ["<answer>disgusted", "disgust"], // cut off inside the answer
  // MAFW-only emotions are outside the 7 classes
  ["worried", "none"], ["The person looks worried and scared.", "multiple"], ["contemptuous", "none"],
];

test("mapEmotion: 7-class table", () => {
  for (const [text, want] of EMOTION_CASES) assert.equal(short(mapEmotion(text)), want, JSON.stringify(text));
});

test("mapEmotion: MAFW's 11 classes", () => {
  const cases: [string, string][] = [
    ["contempt", "contempt"], ["She looks contemptuous", "contempt"], ["scornful", "contempt"],
    ["anxious", "anxiety"], ["worried", "anxiety"], ["nervous", "anxiety"],
    ["helpless", "helplessness"], ["powerless", "helplessness"],
    ["disappointed", "disappointment"], ["The person feels let down.", "disappointment"],
    ["anger", "angry"], ["happiness", "happy"], ["sadness", "sad"],
    ["anxious and disappointed", "multiple"], ["not anxious, just calm", "neutral"],
  ];
  for (const [text, want] of cases) assert.equal(short(mapEmotion(text, { classes: EMOTIONS11 })), want, text);
});

test("mapEmotion: option letters when options are given", () => {
  const options = ["sad", "happy", "angry", "fear"];
  const cases: [string, string][] = [
    ["(B)", "happy"], ["B", "happy"], ["b", "happy"], ["(b)", "happy"], ["B.", "happy"], ["B) happy", "happy"],
    ["(B) happy", "happy"], ["Option C", "angry"], ["The answer is (D).", "fear"], ["Answer: A", "sad"],
    ["I think (C) is right", "angry"],
    ["(B) sad", "multiple"], // the letter and the words disagree
    ["(A) or (C)", "multiple"],
    ["(E)", "none"], // only 4 options
    ["a happy face", "happy"], ["A happy face", "happy"], // the article "a" is not option A
    ["fear", "fear"], // words alone still work
    ["The eyes close 2 time(s); the face is sad", "sad"], // "(s)" inside a word is not a letter
  ];
  for (const [text, want] of cases) assert.equal(short(mapEmotion(text, { options })), want, text);
  const outOfRange = mapEmotion("(E)", { options });
  assert.ok(outOfRange.kind === "none" && /only 4 options \(A-D\)/.test(outOfRange.reason), JSON.stringify(outOfRange));
  const noOptions = mapEmotion("(B)");
  assert.ok(noOptions.kind === "none" && /had no options/.test(noOptions.reason), JSON.stringify(noOptions));
});

test("mapEmotion: results say why and list the labels named", () => {
  assert.deepEqual(mapEmotion("happy and surprised"), { kind: "multiple", labels: ["happy", "surprise"] });
  const neg = mapEmotion("not happy");
  assert.ok(neg.kind === "none" && /only negated emotion \(happy\)/.test(neg.reason));
  const out = mapEmotion("worried");
  assert.ok(out.kind === "none" && /"anxiety" is not one of the 7 classes/.test(out.reason));
  assert.equal(labelOf(mapEmotion("sad")), "sad");
  assert.equal(labelOf(mapEmotion("happy or sad")), null);
  assert.equal(labelOf(mapEmotion("")), null);
});

test("mapYesNo table", () => {
  const cases: [string, string][] = [
    ["yes", "yes"], ["Yes.", "yes"], ["No", "no"], ["no.", "no"], ["Yes, AU12 is present.", "yes"],
    ["No, it does not appear.", "no"], ["Definitely yes", "yes"], ["Nope", "no"],
    ["It is present", "yes"], ["It is not present", "no"], ["The lip corner puller is absent.", "no"],
    ["It is not absent", "yes"], ["There is no AU12 present.", "no"], ["It never appears", "no"],
    ["Not at all", "no"], ["<think>AU12 rises at frame 3.</think><answer>yes</answer>", "yes"],
    ["yes or no", "multiple"], ["Yes and no", "multiple"], ["I cannot tell", "none"], ["", "none"],
  ];
  for (const [text, want] of cases) assert.equal(short(mapYesNo(text)), want, text);
});

test("mapChoice: attribute values, longest match, synonyms, negation, letters", () => {
  const hair = ["black", "brown", "dark_brown", "blond", "red", "grey"];
  const syn = { blond: ["blonde"], grey: ["gray"] };
  const cases: [string, string][] = [
    ["black", "black"], ["The hair is dark brown.", "dark_brown"], ["brown", "brown"], ["Blonde hair", "blond"],
    ["gray", "grey"], ["not black but red", "red"], ["black and red streaks", "multiple"], ["purple", "none"],
    ["(C)", "dark_brown"],
  ];
  for (const [text, want] of cases) assert.equal(short(mapChoice(text, hair, { synonyms: syn, options: hair })), want, text);
  const glasses = ["none", "round", "square"];
  const gcases: [string, string][] = [
    ["none", "none"], ["No glasses", "none"], ["round glasses", "round"], ["square frames", "square"], ["not round, square", "square"],
  ];
  for (const [text, want] of gcases) {
    const m = mapChoice(text, glasses, { synonyms: { none: ["no glasses", "no eyewear"] } });
    assert.equal(m.kind === "label" ? m.label : `(${m.kind})`, want, text);
  }
});
