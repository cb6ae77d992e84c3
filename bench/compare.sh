#!/usr/bin/env bash
# The engine's throughput of another revision beside the work tree's, measured alternately
# in one run (a figure recorded on another day cannot show a regression on this noisy box):
#
#   bench/compare.sh REV          (just bench compare REV; ROUNDS=3 BACKENDS="postgres sqlite")
#
# Builds REV's fast-flights-bench in release mode from a worktree under
# $HOME/.cache/fast-flights (its own target dir there, seeded from the release seed when
# there is one) and the work tree's, then runs `fast-flights-bench throughput BACKEND` of
# each in turn, ROUNDS times, swapping which goes first every round. Prints every run, the
# medians, the ratio this ÷ REV, and marks a drop over 20% loudly. A printed comparison,
# not a timing assertion. Needs PostgreSQL at TEST_DATABASE_URL.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 REV" >&2; exit 2; }
rounds="${ROUNDS:-3}"
backends="${BACKENDS:-postgres sqlite}"
root="$(git rev-parse --show-toplevel)"
rev="$(git -C "$root" rev-parse --verify "$1^{commit}")" || { echo "no revision $1" >&2; exit 2; }
short="${rev:0:9}"
cache="$HOME/.cache/fast-flights"
rev_tree="$cache/wt-$short"
rev_target="$cache/t-$short"
here_target="${CARGO_TARGET_DIR:-$root/target}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
mkdir -p "$cache"

if [ ! -d "$rev_tree" ]; then
    git -C "$root" worktree add --detach "$rev_tree" "$rev" >/dev/null
fi
if [ ! -d "$rev_target" ] && [ -d "$cache/release-seed/release" ]; then
    mkdir -p "$rev_target"
    cp -a "$cache/release-seed/release" "$rev_target/"
fi

echo "== building $short (in $rev_tree) and the work tree, release"
if ! (cd "$rev_tree" && CARGO_TARGET_DIR="$rev_target" cargo build -q --release --bin fast-flights-bench); then
    echo "!! $short's fast-flights-bench does not build: nothing to compare" >&2
    exit 1
fi
(cd "$root" && CARGO_TARGET_DIR="$here_target" cargo build -q --release --bin fast-flights-bench)
rev_bin="$rev_target/release/fast-flights-bench"
here_bin="$here_target/release/fast-flights-bench"

# What each bench's command line can do: single runs (FF_BENCH_RUNS) came with this script;
# an older bench runs its fixed runs (three of each kind) per call.
single_runs() { "$1" help 2>&1 | grep -q FF_BENCH_RUNS; }
for side in rev here; do
    bin_var="${side}_bin"
    if single_runs "${!bin_var}"; then
        declare "${side}_single=1"
    else
        declare "${side}_single=0"
    fi
done
if [ "$rev_single" = 0 ]; then
    echo "!! $short's bench predates FF_BENCH_RUNS: each of its calls runs its fixed three default"
    echo "!! runs and three every-task runs (only the default ones are compared), so its rounds are"
    echo "!! longer and hold three runs each instead of one"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One call of a bench: every "default checkpoints" run's tasks/s, one per line.
run_one() { # bin single backend (an older bench ignores the FF_BENCH_* variables)
    local out
    if ! out="$(FF_BENCH_RUNS=1 FF_BENCH_EVERY_TASK_RUNS=0 "$1" throughput "$3" 2>&1)"; then
        echo "!! $1 throughput $3 failed:" >&2
        echo "$out" | tail -5 >&2
        return 1
    fi
    echo "$out" | sed -n 's/.*default checkpoints.*= \([0-9][0-9]*\) tasks\/s.*/\1/p'
}

for round in $(seq 1 "$rounds"); do
    for backend in $backends; do
        if [ $((round % 2)) = 1 ]; then order="rev here"; else order="here rev"; fi
        for side in $order; do
            bin_var="${side}_bin"
            single_var="${side}_single"
            rates="$(run_one "${!bin_var}" "${!single_var}" "$backend")" || exit 1
            label="$([ "$side" = rev ] && echo "$short" || echo "work tree")"
            for r in $rates; do
                echo "$r" >> "$work/$side-$backend"
                printf '  round %d  %-8s  %-10s %6d tasks/s\n' "$round" "$backend" "$label" "$r"
            done
        done
    done
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "== medians, default checkpoints (tasks/s), $rounds rounds, alternating"
printf '  %-8s  %12s  %12s  %10s\n' backend "$short" "work tree" "this÷rev"
for backend in $backends; do
    a="$(median "$work/rev-$backend")"
    b="$(median "$work/here-$backend")"
    ratio="$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", b / a}')"
    mark=""
    if awk -v r="$ratio" 'BEGIN {exit !(r < 0.8)}'; then
        mark="   <<<<<< DROP OF $(awk -v r="$ratio" 'BEGIN {printf "%.0f", (1 - r) * 100}')% AGAINST $short >>>>>>"
    fi
    printf '  %-8s  %12s  %12s  %9sx%s\n' "$backend" "$a" "$b" "$ratio" "$mark"
    echo "  runs $short: $(paste -sd' ' "$work/rev-$backend")"
    echo "  runs work tree: $(paste -sd' ' "$work/here-$backend")"
done
echo "  (load average now: $(cut -d' ' -f1-3 /proc/loadavg); the box is shared, so read ratios, not absolutes)"
