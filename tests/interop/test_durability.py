"""An object acknowledged to its publisher survives `kill -9` of the server.

The server is killed with SIGKILL right after the 202 answers (no graceful shutdown, no
chance to flush), then started again on the same data directory.
"""

import requests

from support import TAXII_MEDIA_TYPE, envelope, indicator, malware


def post(exchange, org, cid, objects):
    response = requests.post(
        f"{exchange.collection_url(cid)}objects/",
        json=envelope(*objects),
        headers={
            "Accept": TAXII_MEDIA_TYPE,
            "Content-Type": TAXII_MEDIA_TYPE,
            "Authorization": f"Bearer {org.key}",
        },
        timeout=60,
    )
    assert response.status_code == 202, (response.status_code, response.text)
    return response.json()


def test_acknowledged_objects_survive_kill_9(make_exchange):
    exchange = make_exchange()
    alpha = exchange.add_org("alpha", "platform")
    bravo = exchange.add_org("bravo", "government")
    cid = exchange.add_group({"alpha": "rw", "bravo": "r"})

    batches = [[indicator(), malware()], [indicator() for _ in range(200)], [indicator(tlp="clear")]]
    for batch in batches:
        status = post(exchange, alpha, cid, batch)
        assert status["total_count"] == len(batch)
    pid = exchange.server.proc.pid

    exchange.restart_after_kill()
    assert exchange.server.proc.pid != pid

    everything = [obj for batch in batches for obj in batch]
    for org in (alpha, bravo):
        coll = exchange.collection(org, cid)
        got = []
        page = coll.get_objects(limit=100)
        got += page.get("objects", [])
        while page.get("more"):
            page = coll.get_objects(limit=100, next=page["next"])
            got += page.get("objects", [])
        by_id = {obj["id"]: obj for obj in got}
        assert len(by_id) == len(got) == len(everything), (org.name, len(got), len(everything))
        for obj in everything:
            assert by_id.get(obj["id"]) == obj, f"{obj['id']} lost or changed after kill -9"


def test_setup_made_while_serving_survives_kill_9(make_exchange):
    """Orgs, groups and keys created by the admin CLI next to a running server persist."""
    exchange = make_exchange()
    alpha = exchange.add_org("alpha", "research")
    cid = exchange.add_group({"alpha": "rw"}, default_tlp="green")
    exchange.restart_after_kill()
    coll = exchange.collection(alpha, cid)
    assert coll.can_read and coll.can_write
    obj = indicator()
    post(exchange, alpha, cid, [obj])
    assert coll.get_object(obj["id"])["objects"] == [obj]
