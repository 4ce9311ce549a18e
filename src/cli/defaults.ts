// Paths the CLI defaults to: the model that ships in the repository.
import { join } from "node:path";

/** models/favchat-tiny, trained by `npm run train:tiny` and committed. */
export const DEFAULT_MODEL = join(import.meta.dirname, "..", "..", "models", "favchat-tiny");
