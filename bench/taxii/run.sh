#!/usr/bin/env bash
# Runs the TAXII benchmark: Accord (release build) against medallion 3.0.0 (memory backend),
# the same workload, one after the other, on 127.0.0.1.
#
# Makes <repo>/.venv-bench with bench/taxii/requirements.txt (again only when that file or
# the interpreter changes), builds `accord` and `bench-taxii` in release mode, then runs
# bench-taxii with the arguments given, for example:
#   bench/taxii/run.sh                                       # 100,000 objects each
#   bench/taxii/run.sh --medallion-objects 10000             # medallion gets fewer, and says so
#   bench/taxii/run.sh --objects 5000 --lookups 200          # a quick run
# Environment: PYTHON picks the interpreter (default python3.11, else python3);
# CARGO_TARGET_DIR is respected.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
die() { printf 'bench/taxii/run.sh: error: %s\n' "$*" >&2; exit 1; }

source bench/python.sh
pick_python

requirements=bench/taxii/requirements.txt
stamp_file=.venv-bench/.requirements-stamp
want_stamp="$({ "$python" -c 'import sys; print(sys.version)'; cat "$requirements"; } | sha256sum | cut -d' ' -f1)"
if [[ ! -x .venv-bench/bin/medallion || ! -f "$stamp_file" || "$(cat "$stamp_file")" != "$want_stamp" ]]; then
    echo "making .venv-bench with $python ($requirements)" >&2
    rm -rf .venv-bench
    "$python" -m venv .venv-bench || die "'$python -m venv' failed (on Debian: apt-get install python3.11-venv)"
    .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements" \
        || die "could not install $requirements (is PyPI reachable?)"
    echo "$want_stamp" >"$stamp_file"
fi

cargo build --release -p accord -p bench-taxii || die "cargo build --release failed"
target_dir="$(
    cargo metadata --format-version 1 --no-deps \
        | .venv-bench/bin/python -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
)"
exec "$target_dir/release/bench-taxii" \
    --accord "$target_dir/release/accord" \
    --medallion "$repo/.venv-bench/bin/medallion" \
    "$@"
