"""Discovery, API root, collections and authentication, as the OASIS client sees them."""

import pytest
import requests

from support import STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE


def test_discovery_lists_the_exchange_api_root(exchange):
    server = exchange.discovery(exchange.orgs["alpha"])
    assert server.title
    roots = [root.url for root in server.api_roots]
    assert exchange.api_root_url in roots, roots
    if server.default is not None:
        assert server.default.url == exchange.api_root_url


def test_api_root_information(exchange):
    root = exchange.api_root(exchange.orgs["alpha"])
    assert root.title
    assert TAXII_MEDIA_TYPE in root.versions, root.versions
    assert isinstance(root.max_content_length, int) and root.max_content_length > 0


def test_collections_show_membership_and_rights(exchange):
    alpha, delta = exchange.orgs["alpha"], exchange.orgs["delta"]
    cid = exchange.add_group({"alpha": "rw", "delta": "r"}, description="Midterms 2026")

    for org, can_write in ((alpha, True), (delta, False)):
        listed = {c.id: c for c in exchange.api_root(org).collections}
        assert cid in listed, f"{org.name} does not see collection {cid}: {sorted(listed)}"
        coll = listed[cid]
        assert coll.title
        assert coll.can_read is True
        assert coll.can_write is can_write, f"{org.name}: can_write={coll.can_write}"
        if coll.media_types:
            assert STIX_MEDIA_TYPE in coll.media_types, coll.media_types

    direct = exchange.collection(alpha, cid)
    assert direct.id == cid and direct.can_read and direct.can_write


def test_bearer_and_basic_auth_both_work(exchange):
    alpha = exchange.orgs["alpha"]
    url = f"{exchange.url}/taxii2/"
    bearer = exchange.http(alpha).get(url)
    assert bearer.status_code == 200, bearer.text
    assert bearer.headers["Content-Type"].replace(" ", "").startswith("application/taxii+json")
    basic = requests.get(
        url, auth=("anyone", alpha.key), headers={"Accept": TAXII_MEDIA_TYPE}, timeout=60
    )
    assert basic.status_code == 200, basic.text
    assert basic.json() == bearer.json()


@pytest.mark.parametrize("auth", [None, "Bearer not-a-key", "Basic eDpub3QtYS1rZXk="])
def test_requests_without_a_valid_key_are_refused(exchange, auth):
    session = exchange.http()
    if auth:
        session.headers["Authorization"] = auth
    response = session.get(exchange.api_root_url)
    assert response.status_code == 401, (response.status_code, response.text)
    error = response.json()
    assert error.get("title"), error


def test_revoked_key_is_refused(exchange):
    key = exchange.admin("key", "create", "--org", "bravo", "--role", "reader", "--json")
    session = exchange.http()
    session.headers["Authorization"] = f"Bearer {key['key']}"
    assert session.get(exchange.api_root_url).status_code == 200
    exchange.admin("key", "revoke", key["id"])
    response = session.get(exchange.api_root_url)
    assert response.status_code == 401, (response.status_code, response.text)


def test_unknown_collection_is_404(exchange):
    response = exchange.http(exchange.orgs["alpha"]).get(
        exchange.collection_url("00000000-0000-4000-8000-000000000000")
    )
    assert response.status_code == 404, (response.status_code, response.text)
    assert response.json().get("title")
