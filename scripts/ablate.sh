#!/usr/bin/env bash
# One ablation of the tiny recipe, trained with the same data, steps and seeds as the full model, reusing the full
# run's stages 0 and encoders (which never touch the parts an ablation removes; see scripts/ablation-init.ts):
#   bash scripts/ablate.sh no-ca2|no-face-encoder|qformer-without-prompt|fixed-weights [FULL_WORK=runs/tiny]
# Writes runs/ablation-<name>/ (model/ with eval/ reports, like the full recipe); re-running continues where it stopped.
set -euo pipefail
name=${1:?usage: bash scripts/ablate.sh ABLATION [FULL_WORK_DIR]}
full=${2:-runs/tiny}
root=$(cd "$(dirname "$0")/.." && pwd)
config=$root/configs/ablations/$name.json
[ -f "$config" ] || { echo "no ablation config $config (have: $(ls "$root/configs/ablations" | sed 's/\.json$//' | tr '\n' ' '))" >&2; exit 2; }
for d in stage0 encoders; do
  [ -f "$full/$d/config.json" ] && [ -f "$full/$d/curves.png" ] || { echo "$full/$d is not a finished stage: run npm run train:tiny -- --work $full first" >&2; exit 2; }
done
work=$root/runs/ablation-$name
mkdir -p "$work"
[ -e "$work/data" ] || ln -s "$(cd "$full/data" && pwd)" "$work/data"
[ -e "$work/stage0" ] || cp -r "$full/stage0" "$work/stage0"
if [ ! -f "$work/encoders/curves.png" ]; then
  ablation=$(python3 -c 'import json,sys; print(json.dumps({"ablation": json.load(open(sys.argv[1]))["model"]["ablation"]}))' "$config")
  node --import tsx "$root/scripts/ablation-init.ts" "$full/encoders" "$work/encoders" "$ablation"
  cp "$full/encoders/metrics.jsonl" "$full/encoders/curves.png" "$work/encoders/"
fi
node --import tsx "$root/scripts/train-tiny.ts" --config "$config" --work "$work" --out "$work/model"
