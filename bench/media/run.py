"""The Python side of bench-media: run by bench-media with the venv's python.

Three commands, each printing one JSON object on stdout (progress goes to stderr):

  versions
      The versions of Python, pdqhash, numpy, Pillow and, if it imports, faiss-cpu.

  hash MANIFEST --group G --seconds S
      Hashes group G of the images bench-media decoded (MANIFEST describes them; their RGB
      pixels are in one raw file) with pdqhash.compute, on numpy arrays made from those
      very bytes before the clock. Then, from each image file's bytes (read before the
      clock): PIL.Image.open(BytesIO).convert("RGB"), numpy.asarray, pdqhash.compute. Each
      measurement runs one untimed pass, then passes until S seconds have gone by. Also
      measures apart the parts of pdqhash.compute that are not the C++ core (the numpy
      luminance and the Python list of 256 bits), to estimate the core's own share.

  index BANK QUERIES --radius R --exact-queries E --scan-queries K --threads T --seconds S
        --out DIR
      Builds FAISS binary indexes on the 32-byte records of BANK and answers the QUERIES
      with range_search at Hamming distance <= R, on 1 and on T threads. FAISS's
      range_search keeps distances strictly below its radius argument, so it is given R+1.
      Configurations: IndexBinaryMultiHash(256, 16, 16) as HMA builds it (nflip 0), the same
      with nflip 1 on the first E queries (which makes it exact at R <= 31: with 16
      substrings of 16 bits, a hash within 31 bits agrees with the query within one bit on
      at least one substring), and IndexBinaryFlat (an exhaustive scan) on the first K. Each configuration's
      answers are written to DIR as raw little-endian int64 arrays (lims, ids), as
      range_search returns them.
"""

import argparse
import importlib.metadata
import io
import json
import sys
import time


def versions():
    out = {"python": sys.version.split()[0]}
    for key, dist in (("pdqhash", "pdqhash"), ("numpy", "numpy"), ("pillow", "pillow")):
        out[key] = importlib.metadata.version(dist)
    try:
        import faiss

        out["faiss"] = importlib.metadata.version("faiss-cpu")
        out["faiss_build"] = faiss.get_compile_options().strip()
    except Exception as e:  # not installed, or broken on this machine
        out["faiss"] = None
        out["faiss_error"] = f"{type(e).__name__}: {e}"
    return out


def timed(seconds, one_pass):
    """One untimed pass, then passes until `seconds` have gone by."""
    one_pass()
    passes = 0
    start = time.perf_counter()
    while True:
        one_pass()
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return {"passes": passes, "seconds": elapsed}


def hex_of(vector):
    """pdqhash's bit vector (most significant bit first) as 64 hex digits."""
    import numpy as np

    return np.packbits(vector.astype(np.uint8)).tobytes().hex()


def hash_group(args):
    import numpy as np
    import pdqhash
    import pdqhash.bindings
    from PIL import Image

    with open(args.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    group = manifest["groups"][args.group]
    with open(manifest["pixels"], "rb") as f:
        raw = f.read()
    arrays = []
    files = []
    for image in group["images"]:
        w, h, off = image["width"], image["height"], image["offset"]
        arrays.append(np.frombuffer(raw, dtype=np.uint8, count=w * h * 3, offset=off).reshape(h, w, 3))
        with open(image["path"], "rb") as f:
            files.append(f.read())

    hashes = []
    for a in arrays:
        vector, quality = pdqhash.compute(a)
        hashes.append([hex_of(vector), int(quality)])

    def hash_pass():
        for a in arrays:
            pdqhash.compute(a)

    hash_timing = timed(args.seconds, hash_pass)

    decoded_hashes = []
    for b in files:
        vector, quality = pdqhash.compute(np.asarray(Image.open(io.BytesIO(b)).convert("RGB")))
        decoded_hashes.append([hex_of(vector), int(quality)])

    def decode_pass():
        for b in files:
            pdqhash.compute(np.asarray(Image.open(io.BytesIO(b)).convert("RGB")))

    decode_timing = timed(args.seconds, decode_pass)

    # The parts of pdqhash.compute around the C++ core, done the way it does them: the
    # luminance in numpy (float64, cast to float32), the zeroed second buffer, and the
    # conversion of the 16 words to a numpy vector of 256 bits through a Python list.
    def outside_pass():
        for a in arrays:
            gray = (a[:, :, 0] * 0.299 + a[:, :, 1] * 0.587 + a[:, :, 2] * 0.114).astype("float32")
            np.zeros_like(gray)
            pdqhash.bindings.hash_to_vector([0x1234] * 16)

    outside = timed(args.seconds / 4, outside_pass)
    return {
        "hash": hash_timing,
        "decode": decode_timing,
        "outside_core_seconds_per_pass": outside["seconds"] / outside["passes"],
        "hashes": hashes,
        "decoded_hashes": decoded_hashes,
    }


def rss():
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def index(args):
    import numpy as np
    import faiss

    bank = np.fromfile(args.bank, dtype=np.uint8).reshape(-1, 32)
    queries = np.fromfile(args.queries, dtype=np.uint8).reshape(-1, 32)
    n, d = bank.shape[0], 256
    radius = args.radius + 1  # range_search keeps distances < radius
    configs = []

    def run_queries(idx, name, q, build=None, memory=None):
        rates = {}
        result = None
        for threads, key in ((1, "qps_1"), (args.threads, "qps_n")):
            faiss.omp_set_num_threads(threads)
            print(f"faiss: {name}, {len(q)} queries, {threads} thread(s)", file=sys.stderr)
            holder = {}

            def one_pass():
                holder["r"] = idx.range_search(q, radius)

            timing = timed(args.seconds, one_pass)
            rates[key] = timing["passes"] * len(q) / timing["seconds"]
            result = holder["r"]
        lims, _, ids = result
        base = f"{args.out}/faiss-{len(configs)}"
        lims.astype("<i8").tofile(base + ".lims")
        ids.astype("<i8").tofile(base + ".ids")
        config = {"name": name, "queries": len(q), "lims": base + ".lims", "ids": base + ".ids", **rates}
        if build is not None:
            config["index"] = name.split()[0]
            config["build_seconds"] = build
            config["memory_bytes"] = memory
        configs.append(config)

    # As HMA builds it (python-threatexchange's PDQ multi-hash index: 16 maps of 16 bits).
    faiss.omp_set_num_threads(args.threads)
    print(f"faiss: building IndexBinaryMultiHash(256, 16, 16) on {n} hashes", file=sys.stderr)
    before = rss()
    start = time.perf_counter()
    mih = faiss.IndexBinaryMultiHash(d, 16, 16)
    mih.add(bank)
    build = time.perf_counter() - start
    memory = rss() - before
    mih.nflip = 0
    run_queries(mih, "MultiHash(256,16,16) nflip=0 (HMA)", queries, build=build, memory=memory)
    mih.nflip = 1
    run_queries(mih, "MultiHash(256,16,16) nflip=1 (exact at 31)", queries[: args.exact_queries])
    del mih

    k = min(args.scan_queries, len(queries))
    if k > 0:
        print(f"faiss: building IndexBinaryFlat on {n} hashes", file=sys.stderr)
        flat = faiss.IndexBinaryFlat(d)
        flat.add(bank)
        run_queries(flat, "BinaryFlat (exhaustive scan)", queries[:k])
        del flat
    return {"configs": configs}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("versions")
    h = sub.add_parser("hash")
    h.add_argument("manifest")
    h.add_argument("--group", type=int, required=True)
    h.add_argument("--seconds", type=float, default=2.0)
    i = sub.add_parser("index")
    i.add_argument("bank")
    i.add_argument("queries")
    i.add_argument("--radius", type=int, default=31)
    i.add_argument("--scan-queries", type=int, default=100)
    i.add_argument("--exact-queries", type=int, default=1000)
    i.add_argument("--threads", type=int, default=2)
    i.add_argument("--seconds", type=float, default=2.0)
    i.add_argument("--out", required=True)
    args = parser.parse_args()

    if args.command == "versions":
        out = versions()
    elif args.command == "hash":
        out = hash_group(args)
    else:
        out = index(args)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
