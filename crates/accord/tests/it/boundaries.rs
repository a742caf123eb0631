//! Architecture invariants read from the manifests: each library crate depends only on what
//! ARCHITECTURE.md allows. An engine that grows tokio, axum or SQL fails here.

use std::path::Path;

fn dependencies(krate: &str) -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut out = Vec::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once('=') {
            let name = name.trim().trim_end_matches(".workspace").to_owned();
            if !name.is_empty() && !name.starts_with('#') {
                out.push(name);
            }
        }
    }
    out
}

fn check(krate: &str, allowed: &[&str]) {
    for dep in dependencies(krate) {
        assert!(
            allowed.contains(&dep.as_str()),
            "{krate} must not depend on {dep} (allowed: {allowed:?})"
        );
    }
}

#[test]
fn stix_depends_on_serde_only() {
    check("accord-stix", &["serde", "serde_json", "thiserror"]);
}

#[test]
fn pattern_depends_on_stix_json_and_a_linear_time_regex_only() {
    check(
        "accord-pattern",
        &["accord-stix", "serde_json", "thiserror", "regex"],
    );
}

#[test]
fn match_depends_on_stix_pattern_url_public_suffix_regex_syntax_and_foldhash_only() {
    check(
        "accord-match",
        &[
            "accord-stix",
            "accord-pattern",
            "serde_json",
            "thiserror",
            "url",
            "idna",
            "psl",
            "regex-syntax",
            "foldhash",
        ],
    );
}

#[test]
fn coord_depends_on_the_normalisers_media_stix_and_its_input_formats_only() {
    // Pure: reads the files it is pointed at, writes to the writers it is handed.
    check(
        "accord-coord",
        &[
            "accord-match",
            "accord-media",
            "accord-stix",
            "serde",
            "serde_json",
            "thiserror",
            "foldhash",
            "twox-hash",
            "unicode-normalization",
            "csv",
            "csv-core",
            "memchr",
            "rayon",
            "wide",
            "flate2",
            "parquet",
        ],
    );
}

#[test]
fn store_knows_nothing_of_http_or_async() {
    check(
        "accord-store",
        &["accord-stix", "serde_json", "thiserror", "rusqlite", "rand"],
    );
}

#[test]
fn only_the_server_and_binary_know_http() {
    for krate in ["accord-stix", "accord-pattern", "accord-store"] {
        for dep in dependencies(krate) {
            assert!(
                !["axum", "tokio", "hyper", "tower", "ureq"].contains(&dep.as_str()),
                "{krate} depends on {dep}"
            );
        }
    }
}

#[test]
fn media_depends_on_the_image_decoders_only() {
    // Pure: no HTTP, no async, no storage; decoding is bounded by its own limits.
    check("accord-media", &["image", "thiserror"]);
}
