#!/usr/bin/env bash
# Runs the coordination benchmark: Accord's `accord coord detect` (release build) against
# coordination-network-toolkit 1.5.2 on the same synthetic posts, one tool at a time, every
# behaviour, with each tool's precision and recall against the planted groups (see
# README.md).
#
# Uses <repo>/.venv-bench (made here if missing, as the other benchmarks make it) and
# installs bench/coord/requirements.txt into it (again only when that file or the
# interpreter changes), builds `accord` and `bench-coord` in release mode, then runs
# `bench-coord run` with the arguments given. Datasets and outputs go to
# ${TMPDIR:-/tmp}/accord-bench-coord (--scratch DIR to change), never into the repository.
#   bench/coord/run.sh                          # 100k, 1m and 10m posts
#   bench/coord/run.sh --sizes 100k             # a quick run (a minute or two)
#   bench/coord/run.sh --sizes none --viral     # the viral-stress dataset alone
#   bench/coord/run.sh --cnt-timeout 3600       # let the toolkit run up to an hour a step
# Environment: PYTHON picks the interpreter (default python3.11, else python3);
# CARGO_TARGET_DIR is respected.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
die() { printf 'bench/coord/run.sh: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=bench/python.sh
source bench/python.sh
pick_python

requirements=bench/coord/requirements.txt
stamp_file=.venv-bench/.requirements-stamp-coord
want_stamp="$({ "$python" -c 'import sys; print(sys.version)'; cat "$requirements"; } | sha256sum | cut -d' ' -f1)"
venv_bench
if [[ ! -f "$stamp_file" || "$(cat "$stamp_file")" != "$want_stamp" ]] \
    || ! .venv-bench/bin/python -c 'import coordination_network_toolkit' >/dev/null 2>&1; then
    echo "installing $requirements into .venv-bench" >&2
    .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements" \
        || die "could not install $requirements (is PyPI reachable?)"
    echo "$want_stamp" >"$stamp_file"
fi

cargo build --release -p accord -p bench-coord || die "cargo build --release failed"
target_dir="$(
    cargo metadata --format-version 1 --no-deps \
        | .venv-bench/bin/python -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
)"
exec "$target_dir/release/bench-coord" run \
    --accord "$target_dir/release/accord" --python "$repo/.venv-bench/bin/python" "$@"
