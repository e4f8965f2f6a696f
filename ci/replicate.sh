#!/usr/bin/env bash
# make replicate-ptv2 | make replicate-smop: one command from a fresh machine to a report.
#
#   ci/replicate.sh ptv2|smop        (PROFILE=auto|paper|mini|smoke, BUILD_DIR, JOBS, PTBENCH_MODELS)
#
# Profiles:
#   paper  the official scripts' settings (experiments/ptv2/*.json; experiments/replicate/smop-paper.json)
#          on real checkpoints under $PTBENCH_MODELS, 3 seeds; chosen by `auto` when those
#          checkpoints and an NVIDIA GPU are present.
#   mini   the self-pretrained bert-mini / t5-mini (make pretrain-mini first when missing) on every
#          task with shipped data, 3 seeds, sized for about 2 hours on 2 cores; plus the cost
#          replication at the papers' geometries with random weights (ptbench cost and bench).
#   smoke  the same pipeline on the golden tiny models with a handful of examples, in a few
#          minutes: it checks the command works, and its scores mean nothing.
# Every profile ends with reports/out/<name>/report.{md,html} and the claims printed. Runs already
# recorded are not run again (ptbench sweep resumes), so an interrupted replication continues.
set -euo pipefail
cd "$(dirname "$0")/.."

name=${1:?usage: ci/replicate.sh ptv2|smop}
case "$name" in ptv2|smop) ;; *) echo "replicate: unknown paper '$name' (ptv2 or smop)" >&2; exit 2 ;; esac
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
MODELS=${PTBENCH_MODELS:-models}
PROFILE=${PROFILE:-auto}
ptbench="$BUILD_DIR/ptbench"

# The checkpoints the paper profile needs (Hugging Face folders under $PTBENCH_MODELS).
if [ "$name" = ptv2 ]; then paper_models="bert-large-cased roberta-large"; else paper_models="t5-base t5-large"; fi
if [ "$PROFILE" = auto ]; then
  PROFILE=paper
  for model in $paper_models; do [ -f "$MODELS/$model/config.json" ] || PROFILE=mini; done
  if ! nvidia-smi -L >/dev/null 2>&1; then PROFILE=mini; fi
fi
case "$PROFILE" in paper|mini|smoke) ;; *) echo "replicate: unknown PROFILE '$PROFILE' (auto, paper, mini, smoke)" >&2; exit 2 ;; esac

out="results/replicate/$name-$PROFILE"
report_dir="reports/out/$name"
mkdir -p "$out/cost" "$report_dir"
echo "replicate-$name: profile $PROFILE, records in $out, report in $report_dir"
start=$(date +%s)

sweep() {  # sweep FILE [extra ptbench sweep arguments]
  local file=$1; shift
  "$ptbench" sweep "$file" --out "$out/runs" --executor local --jobs "$JOBS" "$@"
}

# 1. Scores.
case "$PROFILE" in
  paper)
    if [ "$name" = ptv2 ]; then
      for file in experiments/ptv2/*.json; do sweep "$file" --models-dir "$MODELS"; done
    else
      sweep experiments/replicate/smop-paper.json --models-dir "$MODELS"
    fi
    ;;
  mini)
    make --no-print-directory pretrain-mini BUILD_DIR="$BUILD_DIR"
    sweep "experiments/replicate/$name-mini.json"
    ;;
  smoke)
    if [ "$name" = ptv2 ]; then backbone=../shared/golden/models/bert_seqcls; else backbone=../shared/golden/models/t5_v1_1; fi
    sweep "experiments/replicate/$name-mini.json" --set backbone="$backbone" --set tokenizer= \
      --set train.max_train_examples=16 --set train.max_eval_examples=16 --set train.epochs=1
    ;;
esac

# 2. Cost at the papers' geometries (random weights): closed form for every method, measured
#    time / memory / FLOPs for the comparisons the papers make. Files already there are kept.
bench() {  # bench OUTFILE ptbench-bench-arguments…
  local file=$1; shift
  if [ -s "$file" ]; then echo "replicate: $file is there, skipping"; return; fi
  "$ptbench" bench "$@" > "$file.tmp" && mv "$file.tmp" "$file"
}
if [ "$PROFILE" = smoke ]; then steps=(--steps 1 --warmup 1 --gemm 0); else steps=(--steps 3 --warmup 2); fi
if [ "$name" = ptv2 ]; then
  for geometry in bert-large roberta-large; do
    [ "$PROFILE" = smoke ] && geometry=bert-tiny
    "$ptbench" cost --geometry "$geometry" --method full,prompt,ptuning,prefix --seq 128 --table \
      | tee "$out/cost/$geometry-closed-form.txt"
    bench "$out/cost/$geometry-bench.json" --geometry "$geometry" --batch 8 --seq 128 "${steps[@]}" \
      --method 'full,prompt[length=20],ptuning[length=20],prefix[length=16]'
    [ "$PROFILE" = smoke ] && break
  done
else
  for geometry in t5-base t5-large; do
    [ "$PROFILE" = smoke ] && geometry=t5-mini
    "$ptbench" cost --geometry "$geometry" --method full,prompt,smop --head seq2seq --seq 256 --target 4 --table \
      | tee "$out/cost/$geometry-closed-form.txt"
    bench "$out/cost/$geometry-bench.json" --geometry "$geometry" --batch 8 --seq 256 "${steps[@]}" \
      --method 'prompt[length=100],prompt[length=20],smop[num_prompts=4;prompt_length=5]'
    [ "$PROFILE" = smoke ] && break
  done
fi

# 3. Report and the claims.
if [ "$name" = ptv2 ]; then
  references=(--reference results/reference/ptv2_official_repo.json --reference results/reference/ptv2_paper.json)
else
  references=(--reference results/reference/smop_paper.json)
fi
formats=md,html
command -v gnuplot >/dev/null 2>&1 || formats=md
"$ptbench" report "$out" "${references[@]}" --format "$formats" --out "$report_dir" | tee "$report_dir/claims.txt"
echo "replicate-$name ($PROFILE) finished in $(( ($(date +%s) - start) / 60 )) min: $report_dir/report.md"
