"""The DISARM framework bundle (a real third-party STIX 2.1 bundle) round-trips losslessly.

698 objects, custom `x-mitre-*` types and `x_mitre_*` properties, a statement marking and
microsecond timestamps: posted, pulled back page by page, every object must come back
JSON-equal to what was posted.
"""

import json
import pathlib
import subprocess

import pytest
from taxii2client.v21 import as_pages

from support import envelope, indicator, publish, validate_objects

REPO = pathlib.Path(__file__).resolve().parents[2]
DISARM = REPO.parent / "shared" / "testdata" / "stix" / "DISARM.json"


@pytest.fixture(scope="module")
def disarm():
    if not DISARM.is_file():
        pytest.skip(f"DISARM bundle not found at {DISARM} (it lives in shared/testdata beside the repo)")
    bundle = json.loads(DISARM.read_text("utf-8"))
    return bundle["objects"]


def version_key(obj):
    return obj["id"], obj.get("modified", obj.get("created"))


def chunks(objects, max_bytes):
    """Splits objects into envelopes that each serialise under max_bytes."""
    batch, size = [], 20
    for obj in objects:
        obj_size = len(json.dumps(obj, ensure_ascii=False).encode("utf-8")) + 2
        if batch and size + obj_size > max_bytes:
            yield batch
            batch, size = [], 20
        batch.append(obj)
        size += obj_size
    if batch:
        yield batch


def pull_all(coll, per_request):
    pulled = []
    for page in as_pages(coll.get_objects, per_request=per_request, version="all"):
        pulled += page.get("objects", [])
    return pulled


def assert_same_objects(posted, pulled):
    by_key = {}
    for obj in pulled:
        assert version_key(obj) not in by_key, f"{version_key(obj)} came back twice"
        by_key[version_key(obj)] = obj
    missing = [k for k in map(version_key, posted) if k not in by_key]
    assert not missing, f"{len(missing)} of {len(posted)} objects did not come back, e.g. {missing[:3]}"
    assert len(by_key) == len(posted), f"{len(by_key) - len(posted)} objects came back that were never posted"
    for obj in posted:
        back = by_key[version_key(obj)]
        assert back == obj, (
            f"{obj['id']} changed on the way through:\nposted: {json.dumps(obj, sort_keys=True)}\n"
            f"pulled: {json.dumps(back, sort_keys=True)}"
        )


def test_disarm_round_trips_through_taxii(exchange, disarm):
    alpha = exchange.orgs["alpha"]
    coll = exchange.collection(alpha, exchange.add_group({"alpha": "rw"}, default_tlp="green"))
    max_bytes = exchange.api_root(alpha).max_content_length
    posted = 0
    for batch in chunks(disarm, max_bytes):
        status = coll.add_objects(envelope(*batch), wait_for_completion=False)
        if status.status != "complete":
            status.wait_until_final(poll_interval=0.05, timeout=120)
        assert (status.status, status.success_count) == ("complete", len(batch)), status.failures
        posted += len(batch)
    assert posted == len(disarm)
    assert_same_objects(disarm, pull_all(coll, per_request=100))


def cli(accord_bin, *args, cwd):
    done = subprocess.run(
        [accord_bin, *args],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )
    assert done.returncode == 0, f"accord {args[0]} exited {done.returncode}\n{done.stderr}"
    return done.stdout


def test_disarm_through_cli_publish_and_pull(exchange, disarm, accord_bin, tmp_path):
    alpha, bravo = exchange.orgs["alpha"], exchange.orgs["bravo"]
    cid = exchange.add_group({"alpha": "rw", "bravo": "r"})
    where = ["--server", exchange.url, "--collection", cid]
    cli(accord_bin, "publish", str(DISARM), "--key", alpha.key, *where, cwd=tmp_path)
    assert_same_objects(disarm, pull_all(exchange.collection(alpha, cid), per_request=250))

    checkpoint = tmp_path / "bravo.checkpoint"
    pull = ["pull", "--key", bravo.key, *where, "--checkpoint", str(checkpoint), "--limit", "150"]

    def pulled():
        objects = [json.loads(line) for line in cli(accord_bin, *pull, cwd=tmp_path).splitlines() if line.strip()]
        validate_objects(objects)
        return objects

    assert_same_objects(disarm, pulled())
    assert pulled() == [], "a second pull from the checkpoint returned objects again"
    new = indicator()
    publish(exchange.collection(alpha, cid), new)
    assert pulled() == [new]
