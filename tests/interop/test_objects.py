"""The objects, manifest, versions and status endpoints through the OASIS taxii2-client.

One module-wide collection holds an indicator in three versions and a malware object
(posted together) and two indicators posted later, so every filter has something to
select and something to leave out.
"""

import types

import pytest
import requests
from taxii2client.v21 import as_pages

from support import (
    STIX_MEDIA_TYPE,
    TAXII_MEDIA_TYPE,
    envelope,
    indicator,
    malware,
    new_id,
    publish,
    stamp,
    validate_response,
)


def objects(env):
    return env.get("objects", [])


def keys(objs):
    """The (id, modified) pairs of a list of objects, sorted."""
    return sorted((o["id"], o.get("modified")) for o in objs)


def ts_key(timestamp):
    """Orders RFC 3339 UTC timestamps of any sub-second precision."""
    main, _, frac = timestamp.rstrip("Z").partition(".")
    return main, int((frac or "0").ljust(9, "0")[:9])


@pytest.fixture(scope="module")
def corpus(exchange):
    alpha = exchange.orgs["alpha"]
    cid = exchange.add_group({"alpha": "rw"})
    coll = exchange.collection(alpha, cid)
    ind = new_id("indicator")
    v1 = indicator("v.example", id=ind, created=stamp(1), modified=stamp(1))
    v2 = indicator("v.example", id=ind, created=stamp(1), modified=stamp(2, 30, 250))
    v3 = indicator("v.example", id=ind, created=stamp(1), modified=stamp(3))
    mal = malware()
    first = [v1, v2, v3, mal]
    status_first = publish(coll, *first)
    later = [indicator(), indicator()]
    status_later = publish(coll, *later)
    return types.SimpleNamespace(
        exchange=exchange,
        alpha=alpha,
        cid=cid,
        coll=coll,
        ind=ind,
        v1=v1,
        v2=v2,
        v3=v3,
        mal=mal,
        first=first,
        later=later,
        latest=[v3, mal, *later],
        status_first=status_first,
        status_later=status_later,
    )


def test_add_objects_status_lists_every_version(corpus):
    status = corpus.status_first
    assert status.id
    assert (status.total_count, status.success_count, status.failure_count) == (4, 4, 0)
    assert status.pending_count == 0
    successes = sorted((s["id"], s.get("version")) for s in status.successes)
    assert successes == keys(corpus.first)


def test_status_endpoint_returns_the_same_status(corpus):
    root = corpus.exchange.api_root(corpus.alpha)
    status = root.get_status(corpus.status_first.id)
    assert status.id == corpus.status_first.id
    assert status.status == "complete"
    assert (status.total_count, status.success_count) == (4, 4)
    assert sorted((s["id"], s.get("version")) for s in status.successes) == keys(corpus.first)


def test_post_answers_202_with_a_status_resource(exchange):
    alpha = exchange.orgs["alpha"]
    cid = exchange.add_group({"alpha": "rw"})
    obj = indicator()
    response = exchange.http(alpha).post(
        f"{exchange.collection_url(cid)}objects/",
        json=envelope(obj),
        headers={"Content-Type": TAXII_MEDIA_TYPE},
    )
    assert response.status_code == 202, (response.status_code, response.text)
    assert response.headers["Content-Type"].replace(" ", "") == TAXII_MEDIA_TYPE
    status = response.json()
    assert status["status"] in ("complete", "pending"), status
    assert status["total_count"] == 1


def test_get_objects_returns_the_latest_version_of_each(corpus):
    got = objects(corpus.coll.get_objects())
    assert keys(got) == keys(corpus.latest)
    posted = {o["id"]: o for o in corpus.latest}
    for obj in got:
        assert obj == posted[obj["id"]]


def test_get_objects_sets_date_added_headers(corpus):
    response = corpus.exchange.http(corpus.alpha).get(f"{corpus.coll.url}objects/")
    assert response.status_code == 200, response.text
    validate_response(response)
    assert response.headers["Content-Type"].replace(" ", "") == TAXII_MEDIA_TYPE
    assert response.headers.get("X-TAXII-Date-Added-First"), dict(response.headers)
    assert response.headers.get("X-TAXII-Date-Added-Last"), dict(response.headers)


def test_match_type(corpus):
    got = objects(corpus.coll.get_objects(type="indicator"))
    assert keys(got) == keys([corpus.v3, *corpus.later])
    got = objects(corpus.coll.get_objects(type="malware"))
    assert keys(got) == keys([corpus.mal])
    got = objects(corpus.coll.get_objects(type=["malware", "indicator"]))
    assert keys(got) == keys(corpus.latest)
    assert objects(corpus.coll.get_objects(type="campaign")) == []


def test_match_id(corpus):
    got = objects(corpus.coll.get_objects(id=corpus.ind))
    assert keys(got) == keys([corpus.v3])
    got = objects(corpus.coll.get_objects(id=[corpus.ind, corpus.mal["id"]]))
    assert keys(got) == keys([corpus.v3, corpus.mal])
    assert objects(corpus.coll.get_objects(id=new_id("indicator"))) == []


@pytest.mark.parametrize(
    "version, expected",
    [
        ("first", ["v1"]),
        ("last", ["v3"]),
        ("all", ["v1", "v2", "v3"]),
        ("first,last", ["v1", "v3"]),
        ("v2", ["v2"]),
    ],
)
def test_match_version(corpus, version, expected):
    version = getattr(corpus, version)["modified"] if version == "v2" else version
    got = objects(corpus.coll.get_objects(id=corpus.ind, version=version))
    assert keys(got) == keys([getattr(corpus, name) for name in expected])


def test_match_version_all_over_the_collection(corpus):
    got = objects(corpus.coll.get_objects(version="all"))
    assert keys(got) == keys(corpus.first + corpus.later)


def test_match_spec_version(corpus):
    got = objects(corpus.coll.get_objects(spec_version="2.1"))
    assert keys(got) == keys(corpus.latest)
    assert objects(corpus.coll.get_objects(spec_version="2.0")) == []


def test_added_after(corpus):
    manifest = objects(corpus.coll.get_manifest(version="all"))
    added = {(r["id"], r["version"]): r["date_added"] for r in manifest}
    first_added = [added[k] for k in keys(corpus.first)]
    later_added = [added[k] for k in keys(corpus.later)]
    last_of_first = max(first_added, key=ts_key)
    assert ts_key(last_of_first) < min(map(ts_key, later_added)), (
        f"objects added by two POSTs in turn got date_added {first_added} and {later_added}"
    )
    got = objects(corpus.coll.get_objects(added_after=last_of_first))
    assert keys(got) == keys(corpus.later)
    got = objects(corpus.coll.get_objects(added_after=max(later_added, key=ts_key)))
    assert got == []


def test_limit_and_next(corpus):
    page1 = corpus.coll.get_objects(limit=3)
    assert len(objects(page1)) == 3
    assert page1.get("more") is True
    assert page1.get("next"), page1
    page2 = corpus.coll.get_objects(limit=3, next=page1["next"])
    assert len(objects(page2)) == 1
    assert not page2.get("more", False)
    assert keys(objects(page1) + objects(page2)) == keys(corpus.latest)


@pytest.mark.parametrize("per_request", [1, 2, 5])
def test_as_pages_visits_every_version_once(corpus, per_request):
    seen = []
    for page in as_pages(corpus.coll.get_objects, per_request=per_request, version="all"):
        assert len(objects(page)) <= per_request
        seen += objects(page)
    assert keys(seen) == keys(corpus.first + corpus.later)


def test_get_object(corpus):
    got = objects(corpus.coll.get_object(corpus.ind))
    assert got == [corpus.v3]
    got = objects(corpus.coll.get_object(corpus.ind, version="all"))
    assert keys(got) == keys([corpus.v1, corpus.v2, corpus.v3])
    got = objects(corpus.coll.get_object(corpus.ind, version=corpus.v1["modified"]))
    assert got == [corpus.v1]


def test_get_unknown_object_is_404(corpus):
    with pytest.raises(requests.HTTPError) as err:
        corpus.coll.get_object(new_id("indicator"))
    assert err.value.response.status_code == 404


def test_object_versions(corpus):
    versions = corpus.coll.object_versions(corpus.ind)
    assert sorted(versions["versions"], key=ts_key) == [
        corpus.v1["modified"],
        corpus.v2["modified"],
        corpus.v3["modified"],
    ]
    assert corpus.coll.object_versions(corpus.mal["id"])["versions"] == [corpus.mal["modified"]]


def test_manifest(corpus):
    records = objects(corpus.coll.get_manifest())
    assert sorted((r["id"], r["version"]) for r in records) == keys(corpus.latest)
    for record in records:
        assert record["media_type"] == STIX_MEDIA_TYPE
        assert record["date_added"].endswith("Z")
    records = objects(corpus.coll.get_manifest(version="all", type="indicator"))
    assert sorted((r["id"], r["version"]) for r in records) == keys(
        [corpus.v1, corpus.v2, corpus.v3, *corpus.later]
    )


def test_manifest_pages(corpus):
    seen = []
    for page in as_pages(corpus.coll.get_manifest, per_request=2, version="all"):
        seen += objects(page)
    assert sorted((r["id"], r["version"]) for r in seen) == keys(corpus.first + corpus.later)


def test_delete_object(exchange):
    alpha = exchange.orgs["alpha"]
    coll = exchange.collection(alpha, exchange.add_group({"alpha": "rw"}))
    doomed_id = new_id("indicator")
    doomed = [
        indicator("d.example", id=doomed_id, created=stamp(1), modified=stamp(1)),
        indicator("d.example", id=doomed_id, created=stamp(1), modified=stamp(2)),
    ]
    kept = indicator()
    publish(coll, *doomed, kept)

    coll.delete_object(doomed_id, version=doomed[0]["modified"])
    assert objects(coll.get_object(doomed_id, version="all")) == [doomed[1]]

    coll.delete_object(doomed_id)
    with pytest.raises(requests.HTTPError) as err:
        coll.get_object(doomed_id)
    assert err.value.response.status_code == 404
    assert objects(coll.get_objects()) == [kept]
    assert [r["id"] for r in objects(coll.get_manifest())] == [kept["id"]]


def test_invalid_object_is_refused_with_a_clear_error(exchange):
    alpha = exchange.orgs["alpha"]
    cid = exchange.add_group({"alpha": "rw"})
    coll = exchange.collection(alpha, cid)
    good = indicator()
    bad = indicator()
    del bad["created"]
    response = exchange.http(alpha).post(
        f"{coll.url}objects/",
        json=envelope(good, bad),
        headers={"Content-Type": TAXII_MEDIA_TYPE},
    )
    assert response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    if response.status_code == 202:
        # Per-object outcome in the status resource.
        failures = {f["id"]: f for f in body.get("failures", [])}
        assert body["failure_count"] == 1 and bad["id"] in failures, body
        assert failures[bad["id"]].get("message"), body
    else:
        assert 400 <= response.status_code < 500 and body.get("title"), body
    with pytest.raises(requests.HTTPError) as err:
        coll.get_object(bad["id"])
    assert err.value.response.status_code == 404


def test_wrong_content_type_is_415(exchange):
    alpha = exchange.orgs["alpha"]
    cid = exchange.add_group({"alpha": "rw"})
    response = exchange.http(alpha).post(
        f"{exchange.collection_url(cid)}objects/",
        data=b'{"objects": []}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 415, (response.status_code, response.text)


def test_malformed_json_is_400(exchange):
    alpha = exchange.orgs["alpha"]
    cid = exchange.add_group({"alpha": "rw"})
    response = exchange.http(alpha).post(
        f"{exchange.collection_url(cid)}objects/",
        data=b'{"objects": [',
        headers={"Content-Type": TAXII_MEDIA_TYPE},
    )
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.json().get("title")
