"""POST /v1/match against the OASIS reference matcher, stix2-matcher 3.0.0, through a real
server: an indicator per pattern of the pattern differential is published; the bundle of
observed data, and then each observable alone, go to /v1/match and to stix2-matcher. The
indicators hit must be exactly those whose pattern the reference matcher says matches, and
a member outside the indicators' trust group must hit none of them.
"""

import json

from stix2matcher.matcher import match

from support import indicator, publish
from test_pattern_differential import BUNDLE, PATTERNS, observed

SEEN = "2026-10-01T10:00:00Z"


def match_lines(exchange, org, body, content_type, seen=None):
    params = {"seen": seen} if seen else None
    resp = exchange.http(org).post(
        f"{exchange.url}/v1/match", data=body, params=params, headers={"Content-Type": content_type}
    )
    assert resp.status_code == 200, resp.text
    lines = [json.loads(line) for line in resp.text.splitlines()]
    assert "summary" in lines[-1], lines[-1]
    errors = [line for line in lines if "error" in line]
    assert not errors, errors
    return lines


def published_patterns(exchange):
    alpha, bravo, charlie = (exchange.add_org(n, s) for n, s in (
        ("alpha", "platform"), ("bravo", "government"), ("charlie", "security-firm")))
    cid = exchange.add_group({"alpha": "rw", "bravo": "r"}, default_tlp="green")
    indicators = []
    for pattern in PATTERNS:
        ind = indicator(created_by=alpha.identity)
        ind["pattern"] = pattern
        indicators.append(ind)
    publish(exchange.collection(alpha, cid), *indicators)
    return bravo, charlie, indicators


def test_match_agrees_with_stix2_matcher_on_a_bundle_and_on_each_observable(make_exchange):
    exchange = make_exchange()
    bravo, charlie, indicators = published_patterns(exchange)

    # The whole bundle: every observed-data together (AND, FOLLOWEDBY, WITHIN across them).
    lines = match_lines(exchange, bravo, json.dumps(BUNDLE), "application/json")
    got = {line["indicator"] for line in lines if "indicator" in line}
    want = {i["id"] for i in indicators if match(i["pattern"], [BUNDLE], stix_version="2.1")}
    assert want, "the table must have patterns that match"
    assert got == want, {
        "only accord": sorted(p["pattern"] for p in indicators if p["id"] in got - want),
        "only stix2-matcher": sorted(p["pattern"] for p in indicators if p["id"] in want - got),
    }

    # Each observable alone, as a JSON line (the whole SCO) seen at SEEN; then, for those with
    # a value, as a `type:value` text line, whose hits through a derived observable (a URL's
    # host, an e-mail address's domain) are not what the reference sees.
    singles = [o for o in BUNDLE["objects"] if o["type"] != "observed-data"]
    checked = 0
    for sco in singles:
        alone = {"type": "bundle", "id": BUNDLE["id"], "objects": [observed(9, SEEN, SEEN, [sco["id"]]), sco]}
        want = {i["id"] for i in indicators if match(i["pattern"], [alone], stix_version="2.1")}
        inputs = [(json.dumps(sco), "application/x-ndjson")]
        if "value" in sco and len(sco) == 4:
            inputs.append((f"{sco['type']}:{sco['value']}", "text/plain"))
        for body, content_type in inputs:
            lines = match_lines(exchange, bravo, body, content_type, seen=SEEN)
            got = {line["indicator"] for line in lines if "indicator" in line and "matched" not in line}
            assert got == want, (body, {
                "only accord": sorted(p["pattern"] for p in indicators if p["id"] in got - want),
                "only stix2-matcher": sorted(p["pattern"] for p in indicators if p["id"] in want - got),
            })
        checked += len(want)
    assert checked > 0

    # charlie is in no group: the TLP:GREEN indicators never hit for it.
    lines = match_lines(exchange, charlie, json.dumps(BUNDLE), "application/json")
    assert not [line for line in lines if "indicator" in line]
