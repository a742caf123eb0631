#!/usr/bin/env bash
# Runs the pattern-matching benchmark: Accord's accord-pattern (release build, in process)
# against stix2-matcher 3.0.0, the same patterns and observed data, one after the other.
# With `index` as the first argument it runs the indicator-index mode instead, which has no
# peer and needs no Python (see README.md):
#   bench/match/run.sh index --indicators 10000000 --observables 10000000
#
# Uses <repo>/.venv-bench (made here if missing, as bench/taxii/run.sh makes it) and installs
# bench/match/requirements.txt into it (again only when that file or the interpreter
# changes), builds `bench-match` in release mode, then runs it with the arguments given:
#   bench/match/run.sh                              # 50 patterns x 2,000 bundles, both sides
#   bench/match/run.sh --python-bundles 200         # stix2-matcher on the first 200 bundles only
#   bench/match/run.sh --bundles 200 --patterns 25  # a quick run
# Environment: PYTHON picks the interpreter (default python3.11, else python3);
# CARGO_TARGET_DIR is respected.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
die() { printf 'bench/match/run.sh: error: %s\n' "$*" >&2; exit 1; }

if [[ "${1:-}" == index ]]; then
    cargo build --release -p bench-match || die "cargo build --release failed"
    target_dir="${CARGO_TARGET_DIR:-$repo/target}"
    exec "$target_dir/release/bench-match" "$@"
fi

source bench/python.sh
pick_python

requirements=bench/match/requirements.txt
stamp_file=.venv-bench/.requirements-stamp-match
want_stamp="$({ "$python" -c 'import sys; print(sys.version)'; cat "$requirements"; } | sha256sum | cut -d' ' -f1)"
venv_bench
if [[ ! -f "$stamp_file" || "$(cat "$stamp_file")" != "$want_stamp" ]] \
    || ! .venv-bench/bin/python -c 'import stix2matcher' >/dev/null 2>&1; then
    echo "installing $requirements into .venv-bench" >&2
    .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements" \
        || die "could not install $requirements (is PyPI reachable?)"
    echo "$want_stamp" >"$stamp_file"
fi

cargo build --release -p bench-match || die "cargo build --release failed"
target_dir="$(
    cargo metadata --format-version 1 --no-deps \
        | .venv-bench/bin/python -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
)"
exec "$target_dir/release/bench-match" --python "$repo/.venv-bench/bin/python" "$@"
