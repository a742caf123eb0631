"""Sightings over HTTP: what POST /v1/sightings and GET /v1/sightings emit is STIX 2.1 that
stix2-validator accepts, and the publisher's aggregate names no sighter.
"""

from support import indicator, publish, validate_objects


def test_sightings_are_valid_stix_and_the_aggregate_names_nobody(exchange):
    orgs = exchange.orgs
    alpha, bravo = orgs["alpha"], orgs["bravo"]
    cid = exchange.add_group({"alpha": "rw", "bravo": "r"}, default_tlp="amber")
    ind = indicator(created_by=alpha.identity)
    publish(exchange.collection(alpha, cid), ind)

    sighter = exchange.http(bravo)
    body = {
        "indicator": ind["id"],
        "count": 7,
        "first_seen": "2024-10-01T08:00:00Z",
        "last_seen": "2024-10-02T09:00:00.5Z",
        "where": "county webmail",
        "observed": "url:http://vote-example.invalid/login",
    }
    posted = sighter.post(f"{exchange.url}/v1/sightings", json=body)
    assert posted.status_code == 201, posted.text
    minimal = sighter.post(f"{exchange.url}/v1/sightings", json={"indicator": ind["id"]})
    assert minimal.status_code == 201, minimal.text
    validate_objects([posted.json(), minimal.json()])

    own = sighter.get(f"{exchange.url}/v1/sightings", params={"indicator": ind["id"]})
    assert own.status_code == 200, own.text
    assert len(own.json()["own"]) == 2
    validate_objects(own.json()["own"])

    aggregate = exchange.http(alpha).get(
        f"{exchange.url}/v1/sightings", params={"indicator": ind["id"]}
    )
    assert aggregate.status_code == 200, aggregate.text
    assert aggregate.json()["count"] == 8
    assert aggregate.json()["organisations"] == 1
    assert bravo.identity not in aggregate.text and "county webmail" not in aggregate.text
