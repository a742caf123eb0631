#!/usr/bin/env bash
# Runs the media benchmark: Accord's PDQ hashing and hash index (accord-media, release build,
# in process) against pdqhash (the reference C++ PDQ core) and FAISS's binary multi-hash
# index, on the same pixels and the same hashes, one after the other (see README.md).
#
# Uses <repo>/.venv-bench (made here if missing, as the other benchmarks make it) and
# installs bench/media/requirements.txt into it (again only when that file or the
# interpreter changes), then tries bench/media/requirements-faiss.txt: if faiss-cpu does not
# install, the benchmark says so and leaves its columns out. Then builds `bench-media` in
# release mode and runs it with the arguments given:
#   bench/media/run.sh                                  # 10 million hashes, 10,000 queries
#   bench/media/run.sh --hashes 1000000 --queries 1000  # a quick run
#   bench/media/run.sh --only hash                      # hashing only
# Environment: PYTHON picks the interpreter (default python3.11, else python3);
# CARGO_TARGET_DIR is respected.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
die() { printf 'bench/media/run.sh: error: %s\n' "$*" >&2; exit 1; }

source bench/python.sh
pick_python

requirements=bench/media/requirements.txt
faiss_requirements=bench/media/requirements-faiss.txt
stamp_file=.venv-bench/.requirements-stamp-media
want_stamp="$({ "$python" -c 'import sys; print(sys.version)'; cat "$requirements" "$faiss_requirements"; } | sha256sum | cut -d' ' -f1)"
venv_bench
if [[ ! -f "$stamp_file" || "$(cat "$stamp_file")" != "$want_stamp" ]] \
    || ! .venv-bench/bin/python -c 'import pdqhash, numpy, PIL' >/dev/null 2>&1; then
    echo "installing $requirements into .venv-bench" >&2
    .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements" \
        || die "could not install $requirements (is PyPI reachable?)"
    echo "installing $faiss_requirements into .venv-bench (optional)" >&2
    if ! .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -r "$faiss_requirements"; then
        echo "bench/media/run.sh: faiss-cpu did not install; the FAISS columns will be left out" >&2
    fi
    echo "$want_stamp" >"$stamp_file"
fi

cargo build --release -p bench-media || die "cargo build --release failed"
target_dir="$(
    cargo metadata --format-version 1 --no-deps \
        | .venv-bench/bin/python -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
)"
exec "$target_dir/release/bench-media" --python "$repo/.venv-bench/bin/python" "$@"
