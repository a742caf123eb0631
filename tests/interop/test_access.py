"""Who reads what: trust groups, TLP 2.0 markings, TLP:RED recipients, anonymous sources.

alpha publishes into a group whose members are alpha and bravo (read and write) and delta
(read only); charlie belongs to no group. Every read path of TAXII is checked: objects,
one object, versions and the manifest.
"""

import json
import types

import pytest
import requests

from support import indicator, publish


def objects(env):
    return env.get("objects", [])


def ids(objs):
    return sorted(o["id"] for o in objs)


@pytest.fixture(scope="module")
def shared(exchange):
    orgs = exchange.orgs
    alpha, bravo = orgs["alpha"], orgs["bravo"]
    cid = exchange.add_group({"alpha": "rw", "bravo": "rw", "delta": "r"}, default_tlp="amber")
    made = {
        "clear": indicator(tlp="clear", created_by=alpha.identity),
        "green": indicator(tlp="green", created_by=alpha.identity),
        "amber": indicator(tlp="amber", created_by=alpha.identity),
        "amber+strict": indicator(tlp="amber+strict", created_by=alpha.identity),
        "unmarked": indicator(created_by=alpha.identity),
        "red": indicator(tlp="red", created_by=alpha.identity, recipients=[bravo.identity]),
        "anonymous": indicator(tlp="green", created_by=alpha.identity, anonymous=True),
    }
    publish(exchange.collection(alpha, cid), *made.values())
    return types.SimpleNamespace(exchange=exchange, cid=cid, made=made)


READABLE = {
    "alpha": ["clear", "green", "amber", "amber+strict", "unmarked", "red", "anonymous"],
    "bravo": ["clear", "green", "amber", "amber+strict", "unmarked", "red", "anonymous"],
    "delta": ["clear", "green", "amber", "amber+strict", "unmarked", "anonymous"],
    "charlie": ["clear"],
}


def reader(shared, org_name):
    exchange = shared.exchange
    return exchange.collection(exchange.orgs[org_name], shared.cid)


@pytest.mark.parametrize("org_name", sorted(READABLE))
def test_get_objects_shows_exactly_what_the_org_may_read(shared, org_name):
    got = objects(reader(shared, org_name).get_objects())
    expected = [shared.made[name]["id"] for name in READABLE[org_name]]
    assert ids(got) == sorted(expected), {
        "unexpected": [n for n, o in shared.made.items() if o["id"] in ids(got) and o["id"] not in expected],
        "missing": [n for n, o in shared.made.items() if o["id"] in expected and o["id"] not in ids(got)],
    }


@pytest.mark.parametrize("org_name", sorted(READABLE))
def test_manifest_shows_exactly_what_the_org_may_read(shared, org_name):
    records = objects(reader(shared, org_name).get_manifest())
    expected = [shared.made[name]["id"] for name in READABLE[org_name]]
    assert sorted(r["id"] for r in records) == sorted(expected)


def refusal(call, obj_id):
    """The HTTP status with which `call(obj_id)` is refused, or what it wrongly returned."""
    try:
        return call(obj_id)
    except requests.HTTPError as err:
        return err.response.status_code


@pytest.mark.parametrize("org_name", sorted(READABLE))
def test_single_object_paths_hide_what_the_org_may_not_read(shared, org_name):
    coll = reader(shared, org_name)
    for name, obj in shared.made.items():
        if name in READABLE[org_name]:
            assert ids(objects(coll.get_object(obj["id"]))) == [obj["id"]]
            assert coll.object_versions(obj["id"])["versions"] == [obj["modified"]]
        else:
            for call in (coll.get_object, coll.object_versions):
                answer = refusal(call, obj["id"])
                assert answer in (403, 404), f"{org_name} {call.__name__} {name}: {answer}"


@pytest.mark.parametrize("org_name", sorted(READABLE))
def test_filters_do_not_widen_access(shared, org_name):
    coll = reader(shared, org_name)
    every_id = [obj["id"] for obj in shared.made.values()]
    got = objects(coll.get_objects(id=every_id, version="all", type="indicator"))
    expected = [shared.made[name]["id"] for name in READABLE[org_name]]
    assert ids(got) == sorted(expected)


def test_outsider_cannot_write(shared):
    coll = reader(shared, "charlie")
    assert coll.can_write is False
    response = shared.exchange.http(shared.exchange.orgs["charlie"]).post(
        f"{coll.url}objects/",
        json={"objects": [indicator()]},
        headers={"Content-Type": "application/taxii+json;version=2.1"},
    )
    assert response.status_code in (403, 404), (response.status_code, response.text)


def test_read_only_member_cannot_write(shared):
    coll = reader(shared, "delta")
    assert coll.can_write is False
    response = shared.exchange.http(shared.exchange.orgs["delta"]).post(
        f"{coll.url}objects/",
        json={"objects": [indicator()]},
        headers={"Content-Type": "application/taxii+json;version=2.1"},
    )
    assert response.status_code == 403, (response.status_code, response.text)


def test_anonymous_object_shows_the_exchange_as_source(shared):
    orgs = shared.exchange.orgs
    made = shared.made["anonymous"]
    own = objects(reader(shared, "alpha").get_object(made["id"]))
    assert own == [made], "the publisher sees its own object as it posted it"

    member_identities = {org.identity for org in orgs.values()}
    sources = set()
    for org_name in ("bravo", "delta"):
        (seen,) = objects(reader(shared, org_name).get_object(made["id"]))
        source = seen.get("created_by_ref")
        assert source and source.startswith("identity--"), seen
        assert source not in member_identities, f"{org_name} sees a member as the source: {seen}"
        assert orgs["alpha"].identity not in json.dumps(seen), f"{org_name} can tell alpha published it"
        sources.add(source)
        rest = {k: v for k, v in seen.items() if k not in ("created_by_ref", "extensions")}
        assert rest == {k: v for k, v in made.items() if k not in ("created_by_ref", "extensions")}
    assert len(sources) == 1, f"the exchange's identity differs between readers: {sources}"


def test_anonymous_objects_share_one_exchange_identity(shared):
    exchange = shared.exchange
    alpha = exchange.orgs["alpha"]
    second = indicator(tlp="clear", created_by=alpha.identity, anonymous=True)
    publish(exchange.collection(alpha, shared.cid), second)
    (a,) = objects(reader(shared, "bravo").get_object(shared.made["anonymous"]["id"]))
    (b,) = objects(reader(shared, "charlie").get_object(second["id"]))
    assert a["created_by_ref"] == b["created_by_ref"] != alpha.identity


def test_red_without_recipients_is_refused(exchange):
    """The exchange refuses a TLP:RED object that names no member recipient (README)."""
    alpha = exchange.orgs["alpha"]
    cid = exchange.add_group({"alpha": "rw", "bravo": "rw"})
    obj = indicator(tlp="red", created_by=alpha.identity)
    response = exchange.http(alpha).post(
        f"{exchange.collection_url(cid)}objects/",
        json={"objects": [obj]},
        headers={"Content-Type": "application/taxii+json;version=2.1"},
    )
    assert response.status_code == 422, (response.status_code, response.text)
    status = response.json()
    assert status["failure_count"] == 1 and status["failures"][0]["id"] == obj["id"], status
    assert status["failures"][0].get("message"), status
    assert objects(exchange.collection(alpha, cid).get_objects()) == []
