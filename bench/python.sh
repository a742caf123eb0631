# Sourced by the benchmarks' run.sh (which define die()): the Python the peers run on.
#   pick_python  sets $python: $PYTHON if set, else python3.11, else python3.
#   venv_bench   makes <repo>/.venv-bench with it when there is none.

pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        python="$PYTHON"
    elif command -v python3.11 >/dev/null 2>&1; then
        python=python3.11
    else
        python=python3
    fi
    command -v "$python" >/dev/null 2>&1 || die "$python not found; install python3.11 or set PYTHON"
}

venv_bench() {
    if [[ ! -x .venv-bench/bin/python ]]; then
        echo "making .venv-bench with $python" >&2
        "$python" -m venv .venv-bench || die "'$python -m venv' failed (on Debian: apt-get install python3.11-venv)"
    fi
}
