// Lint: typescript-eslint's recommended rules plus the project's two hard habits (STYLE.md 3-4):
// randomness only from the seeded Rng, configuration only read in src/cli.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "models/**", "**/*.py", ".cache/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
      "no-restricted-properties": ["error", { object: "Math", property: "random", message: "use the seeded Rng (src/core/rng.ts)" }],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/cli/**"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "use the seeded Rng (src/core/rng.ts)" },
        { object: "process", property: "env", message: "only src/cli reads the environment (STYLE.md 3)" },
        { object: "process", property: "argv", message: "only src/cli reads argv (STYLE.md 3)" },
      ],
    },
  },
);
