"""Helpers for the interop suite: STIX 2.1 objects, validation, publishing.

Builders return plain dicts (what a TAXII client posts) with fresh ids, so tests never
collide with each other on the shared exchange. `assert_valid` runs the OASIS
stix2-validator on one object and fails with its error list. `publish` posts through the
taxii2-client and checks the status resource the server answers with.
"""

import uuid
from urllib.parse import urlparse

from stix2validator import ValidationOptions, validate_instance

TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

SHARING_EXTENSION = "extension-definition--c4226c79-7abd-4f40-8a53-c9dbabe9ff30"

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"

_VALIDATION = ValidationOptions(version="2.1")


def assert_valid(obj):
    """Fails unless stix2-validator 3.2.0 finds no error in `obj` (warnings are allowed)."""
    result = validate_instance(obj, _VALIDATION)
    errors = [str(e) for e in result.errors]
    assert result.is_valid and not errors, (
        f"stix2-validator rejects an object the server emitted: {errors}\nobject: {obj}"
    )


VALIDATED = {"objects": 0}


def validate_envelope(url, body):
    """Validates every STIX object in an answer from an objects endpoint of `url`.

    Manifest, versions, status and collection answers hold no STIX objects and pass.
    """
    path = urlparse(url).path
    if "/objects/" not in path or path.endswith("/versions/"):
        return
    assert isinstance(body, dict), f"GET {url} returned {body!r}, not a TAXII envelope"
    objects = body.get("objects", [])
    assert isinstance(objects, list), f"GET {url}: 'objects' is not a list"
    if "more" in body:
        assert isinstance(body["more"], bool), f"GET {url}: 'more' is not a boolean"
    validate_objects(objects)


def validate_objects(objects):
    """Validates (and counts) objects the server emitted by another way than TAXII GET."""
    for obj in objects:
        assert_valid(obj)
        VALIDATED["objects"] += 1


def validate_response(response):
    """For a `requests` GET of an objects endpoint: validates what came back."""
    if response.status_code == 200 and response.content:
        validate_envelope(response.url, response.json())


def stamp(day=1, second=0, millis=0):
    """A STIX timestamp in October 2024, millisecond precision."""
    return f"2024-10-{day:02d}T12:00:{second:02d}.{millis:03d}Z"


def new_id(kind):
    return f"{kind}--{uuid.uuid4()}"


def _mark(obj, tlp, created_by, recipients, anonymous):
    if tlp is not None:
        obj["object_marking_refs"] = [TLP[tlp]]
    if created_by is not None:
        obj["created_by_ref"] = created_by
    if recipients is not None or anonymous is not None:
        ext = {"extension_type": "property-extension"}
        if recipients is not None:
            ext["recipients"] = list(recipients)
        if anonymous is not None:
            ext["anonymous"] = anonymous
        obj["extensions"] = {SHARING_EXTENSION: ext}
    return obj


def indicator(
    domain=None,
    *,
    id=None,
    created=None,
    modified=None,
    tlp=None,
    created_by=None,
    recipients=None,
    anonymous=None,
):
    """A domain-name indicator; `modified` makes a later version of the same `id`."""
    created = created or stamp()
    domain = domain or f"{uuid.uuid4().hex[:12]}.example"
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": id or new_id("indicator"),
        "created": created,
        "modified": modified or created,
        "name": f"Phishing domain {domain}",
        "description": "Lookalike of an election office domain.",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[domain-name:value = '{domain}']",
        "pattern_type": "stix",
        "valid_from": created,
    }
    return _mark(obj, tlp, created_by, recipients, anonymous)


def malware(name=None, *, tlp=None, created_by=None):
    created = stamp()
    obj = {
        "type": "malware",
        "spec_version": "2.1",
        "id": new_id("malware"),
        "created": created,
        "modified": created,
        "name": name or f"loader-{uuid.uuid4().hex[:6]}",
        "description": "Credential stealer sent to campaign staff.",
        "malware_types": ["spyware"],
        "is_family": True,
    }
    return _mark(obj, tlp, created_by, None, None)


def envelope(*objects):
    return {"objects": list(objects)}


def publish(collection, *objects):
    """POSTs `objects` in one envelope; returns the final taxii2client Status.

    A server may answer "pending" and finish later (TAXII 2.1, 5.5); then the status
    endpoint is polled until it is final, which is the protocol's own way to wait.
    """
    status = collection.add_objects(envelope(*objects), wait_for_completion=False)
    if status.status != "complete":
        status.wait_until_final(poll_interval=0.05, timeout=60)
    assert status.status == "complete", f"status never became complete: {status._raw}"
    assert status.total_count == len(objects), status._raw
    assert status.success_count == len(objects), (
        f"{status.failure_count} of {len(objects)} objects failed: {status.failures}"
    )
    return status
