"""`accord pattern match` against the OASIS reference matcher, stix2-matcher 3.0.0.

The same bundle of observed data and the same patterns go to both; every pattern the
reference matcher evaluates must give the same true/false from Accord.
"""

import json
import os
import subprocess

import pytest
from stix2matcher.matcher import match

ACCORD = os.environ["ACCORD_BIN"]


def observed(n, first, last, refs, number=1):
    return {
        "type": "observed-data", "spec_version": "2.1",
        "id": f"observed-data--00000000-0000-4000-8000-{n:012d}",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "first_observed": first, "last_observed": last, "number_observed": number,
        "object_refs": refs,
    }


def sco(kind, n, **props):
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--00000000-0000-4000-8000-{n:012d}", **props}


IP_SRC = sco("ipv4-addr", 1, value="198.51.100.7")
IP_DST = sco("ipv4-addr", 2, value="203.0.113.45")
TRAFFIC = sco("network-traffic", 3, src_ref=IP_SRC["id"], dst_ref=IP_DST["id"], dst_port=443,
              protocols=["ipv4", "tcp", "tls"], src_byte_count=1200)
DOMAIN = sco("domain-name", 4, value="login.columbia-elections-gov.com")
URL = sco("url", 5, value="https://columbia-votes.info/login?next=/ballot")
FILE = sco("file", 6, name="ballot-update.docm", size=48213,
           hashes={"SHA-256": "4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877", "MD5": "0f343b0931126a20f133d67c2b018a3b"})
ACCOUNT = sco("user-account", 7, account_login="columbia_vote_news", account_type="facespace", is_service_account=False)
EMAIL = sco("email-addr", 8, value="notice@columbia-elections-gov.com", display_name="Board of Elections")

BUNDLE = {
    "type": "bundle",
    "id": "bundle--6c8a2b4e-0000-4000-8000-000000000000",
    "objects": [
        observed(1, "2026-10-01T10:00:00Z", "2026-10-01T10:00:00Z", [TRAFFIC["id"], IP_SRC["id"], IP_DST["id"]]),
        observed(2, "2026-10-01T10:00:30Z", "2026-10-01T10:01:00Z", [DOMAIN["id"], URL["id"]]),
        observed(3, "2026-10-01T11:00:00Z", "2026-10-01T11:00:00Z", [FILE["id"], EMAIL["id"]], number=3),
        observed(4, "2026-10-02T09:00:00Z", "2026-10-02T09:00:00Z", [ACCOUNT["id"]]),
        IP_SRC, IP_DST, TRAFFIC, DOMAIN, URL, FILE, ACCOUNT, EMAIL,
    ],
}

PATTERNS = [
    "[domain-name:value = 'login.columbia-elections-gov.com']",
    "[domain-name:value != 'login.columbia-elections-gov.com']",
    "[domain-name:value LIKE '%.columbia-elections-gov.com']",
    "[domain-name:value LIKE 'login._olumbia%']",
    "[domain-name:value MATCHES '^login\\\\.[a-z-]+\\\\.com$']",
    "[domain-name:value MATCHES 'votes']",
    "[url:value MATCHES 'columbia-votes\\\\.info/login']",
    "[domain-name:value IN ('a.example', 'login.columbia-elections-gov.com')]",
    "[domain-name:value NOT IN ('a.example', 'b.example')]",
    "[domain-name:value > 'k']",
    "[domain-name:value < 'k']",
    "[network-traffic:dst_port = 443]",
    "[network-traffic:dst_port >= 443 AND network-traffic:dst_port <= 443]",
    "[network-traffic:dst_port > 443]",
    "[network-traffic:dst_port != 80]",
    "[network-traffic:dst_port IN (80, 443, 8443)]",
    "[network-traffic:src_byte_count > 1000.5]",
    "[network-traffic:protocols[*] = 'tls']",
    "[network-traffic:protocols[0] = 'ipv4']",
    "[network-traffic:protocols[1] = 'ipv4']",
    "[network-traffic:protocols[*] = 'udp']",
    "[network-traffic:dst_ref.value = '203.0.113.45']",
    "[network-traffic:src_ref.value = '203.0.113.45']",
    "[network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24']",
    "[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24']",
    "[ipv4-addr:value ISSUBSET '198.51.0.0/16']",
    # Not here: ISSUPERSET with a plain address as the observed value. The reference raises
    # "Invalid CIDR subnet"; Accord reads a plain address as its /32.
    "[network-traffic:dst_ref.value = '203.0.113.45' AND network-traffic:dst_port = 443]",
    "[network-traffic:dst_ref.value = '203.0.113.45' AND network-traffic:dst_port = 80]",
    "[network-traffic:dst_ref.value = '1.1.1.1' OR network-traffic:dst_port = 443]",
    "[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']",
    "[file:hashes.MD5 = '0f343b0931126a20f133d67c2b018a3b']",
    "[file:hashes.'SHA-1' = '0f343b0931126a20f133d67c2b018a3b']",
    "[file:name LIKE '%.docm' AND file:size > 40000]",
    "[file:size < 40000]",
    "[user-account:account_login = 'columbia_vote_news' AND user-account:account_type = 'facespace']",
    "[user-account:is_service_account = false]",
    "[user-account:is_service_account = true]",
    "[email-addr:display_name = 'Board of Elections']",
    "[email-addr:value LIKE '%@columbia-elections-gov.com']",
    "[domain-name:value = 'login.columbia-elections-gov.com'] AND [network-traffic:dst_port = 443]",
    "[domain-name:value = 'login.columbia-elections-gov.com'] AND [network-traffic:dst_port = 80]",
    "[domain-name:value = 'x.example'] OR [network-traffic:dst_port = 443]",
    "[network-traffic:dst_port = 443] FOLLOWEDBY [domain-name:value LIKE '%gov.com']",
    "[domain-name:value LIKE '%gov.com'] FOLLOWEDBY [network-traffic:dst_port = 443]",
    "[network-traffic:dst_port = 443] FOLLOWEDBY [user-account:account_type = 'facespace']",
    "([network-traffic:dst_port = 443] AND [domain-name:value LIKE '%gov.com']) WITHIN 60 SECONDS",
    "([network-traffic:dst_port = 443] AND [domain-name:value LIKE '%gov.com']) WITHIN 10 SECONDS",
    "([network-traffic:dst_port = 443] AND [user-account:account_type = 'facespace']) WITHIN 3600 SECONDS",
    "[file:name LIKE '%.docm'] REPEATS 3 TIMES",
    "[file:name LIKE '%.docm'] REPEATS 4 TIMES",
    "[network-traffic:dst_port = 443] REPEATS 2 TIMES",
    "[network-traffic:dst_port = 443] START t'2026-10-01T00:00:00Z' STOP t'2026-10-02T00:00:00Z'",
    "[network-traffic:dst_port = 443] START t'2026-10-02T00:00:00Z' STOP t'2026-10-03T00:00:00Z'",
    "[user-account:account_type = 'facespace'] START t'2026-10-02T00:00:00Z' STOP t'2026-10-03T00:00:00Z'",
    "([file:size > 1] REPEATS 2 TIMES) WITHIN 1 SECONDS",
    "[domain-name:value = 'login.columbia-elections-gov.com'] OR [file:size = 1] OR [x-unknown:value = 1]",
]


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("observed") / "bundle.json"
    path.write_text(json.dumps(BUNDLE))
    return path


@pytest.mark.parametrize("pattern", PATTERNS)
def test_accord_agrees_with_stix2_matcher(pattern, bundle_file):
    reference = bool(match(pattern, [BUNDLE], stix_version="2.1"))
    run = subprocess.run(
        [ACCORD, "pattern", "match", pattern, "--observed", str(bundle_file)],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(reference).lower(), f"{pattern}: reference says {reference}"


def test_the_table_has_both_outcomes():
    outcomes = {bool(match(p, [BUNDLE], stix_version="2.1")) for p in PATTERNS}
    assert outcomes == {True, False}


@pytest.mark.parametrize("pattern, position", [
    ("[domain-name:value = 'a'", 24),
    ("[domain-name:value === 'a']", 21),
    ("[domain-name:value = t'yesterday']", 21),
])
def test_validate_reports_the_position(pattern, position):
    run = subprocess.run([ACCORD, "pattern", "validate", pattern], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.startswith(f"error: at {position}:"), run.stderr


def test_validate_accepts_and_prints_canonical_form():
    run = subprocess.run([ACCORD, "pattern", "validate", "[domain-name:value == 'a']"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    assert run.stdout.strip() == "valid: [domain-name:value = 'a']"
