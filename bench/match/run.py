"""The stix2-matcher side of bench-match: run by bench-match with the venv's python.

Loads the workload bench-match wrote ({"patterns": [...], "bundles": [...]}), compiles each
pattern once with stix2matcher.matcher.Pattern (what match() does first on every call;
done here before the clock starts, as Accord parses its patterns before its clock), then
times Pattern.match([bundle]) -- the rest of what
match(pattern, [bundle], stix_version="2.1") does -- for the first --bundles bundles against
every pattern, bundle by bundle, and prints one JSON object on stdout:
{"evaluations", "seconds", "matches", "errors", "results", "listener_seconds", "versions"},
where "results" has one character per evaluation in that order (1 matched, 0 did not, E
raised) and "listener_seconds" is a separate, untimed-above pass over the same pairs that
only builds the MatchListener (the bundle split) each call starts with.
"""

import argparse
import importlib.metadata
import json
import sys
import time

from stix2matcher.matcher import MatchListener, Pattern


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload", help="workload JSON written by bench-match")
    parser.add_argument("--bundles", type=int, default=None, help="use only the first N bundles")
    args = parser.parse_args()

    with open(args.workload, encoding="utf-8") as f:
        work = json.load(f)
    bundles = work["bundles"][: args.bundles] if args.bundles is not None else work["bundles"]
    compiled = [Pattern(p, stix_version="2.1") for p in work["patterns"]]

    results = []
    errors = []
    start = time.perf_counter()
    for b, bundle in enumerate(bundles):
        for p, pattern in enumerate(compiled):
            try:
                results.append("1" if pattern.match([bundle]) else "0")
            except Exception as e:  # the reference raises MatcherException and others
                results.append("E")
                if len(errors) < 5:
                    errors.append(f"bundle {b}, pattern {p}: {type(e).__name__}: {e}")
    seconds = time.perf_counter() - start

    # Breakdown, not part of the figure above: how much of each call is the first thing
    # Pattern.match does, building a MatchListener (it merges the bundles and splits them
    # into one bundle per observed-data), over the same pairs.
    start = time.perf_counter()
    for bundle in bundles:
        for _ in compiled:
            MatchListener([bundle], stix_version="2.1")
    listener_seconds = time.perf_counter() - start

    versions = {
        "python": sys.version.split()[0],
        "stix2-matcher": importlib.metadata.version("stix2-matcher"),
        "stix2-patterns": importlib.metadata.version("stix2-patterns"),
        "antlr4-python3-runtime": importlib.metadata.version("antlr4-python3-runtime"),
    }
    json.dump({
        "evaluations": len(results),
        "seconds": seconds,
        "listener_seconds": listener_seconds,
        "matches": results.count("1"),
        "errors": errors,
        "results": "".join(results),
        "versions": versions,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
