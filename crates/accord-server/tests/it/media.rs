//! Media matching: `/v1/media/hash` hashes an upload, `/v1/media/match` finds the shared PDQ
//! hashes near an image or a hash, only among indicators the caller may read (an allowed and
//! a denied case per rule), and follows new versions and revocation.

use accord_stix::Tlp;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::*;

const H: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

fn pdq_indicator(hash: &str, markings: &[&str]) -> Value {
    let mut v = new_indicator(markings);
    v["pattern"] = json!(format!("[file:hashes.PDQ = '{hash}']"));
    v
}

/// `hash` with its first `n` bits flipped.
fn flipped(hash: &str, n: usize) -> String {
    let mut bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hash[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    for bit in 0..n {
        bytes[bit / 8] ^= 0x80 >> (bit % 8);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn send(h: &Harness, key: &str, path: &str, ct: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let req = Harness::request(Method::POST, key, path)
        .header("Content-Type", ct)
        .body(Body::from(body))
        .unwrap();
    let resp = h.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn matches(h: &Harness, key: &str, hash: &str, query: &str) -> Vec<(String, u64)> {
    let path = format!("/v1/media/match{query}");
    let (status, body) = send(
        h,
        key,
        &path,
        "application/json",
        json!({"hash": hash}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["indicator"].as_str().unwrap().to_owned(),
                m["distance"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn png(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb(pixel(x, y)));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn a_shared_hash_is_found_by_readers_within_the_threshold_with_its_distance() {
    let w = world(Tlp::Clear);
    let id = publish_one(&w, pdq_indicator(H, &[Tlp::Green.marking_ref()])).await;
    let near = flipped(H, 5);
    assert_eq!(
        matches(&w.h, &w.reader.1, &near, "").await,
        vec![(id.clone(), 5)]
    );
    assert_eq!(
        matches(&w.h, &w.publisher.1, H, "").await,
        vec![(id.clone(), 0)]
    );
    // Beyond the threshold, nothing; the default threshold is 31.
    assert!(
        matches(&w.h, &w.reader.1, &near, "?threshold=4")
            .await
            .is_empty()
    );
    assert!(
        matches(&w.h, &w.reader.1, &flipped(H, 32), "")
            .await
            .is_empty()
    );
    assert_eq!(
        matches(&w.h, &w.reader.1, &flipped(H, 31), "").await,
        vec![(id, 31)]
    );
}

#[tokio::test]
async fn green_and_amber_hashes_are_hidden_from_outsiders_and_members_without_read() {
    for tlp in [Tlp::Green, Tlp::Amber, Tlp::AmberStrict] {
        let w = world(Tlp::Clear);
        let id = publish_one(&w, pdq_indicator(H, &[tlp.marking_ref()])).await;
        assert_eq!(matches(&w.h, &w.reader.1, H, "").await, vec![(id, 0)]);
        assert!(
            matches(&w.h, &w.outsider.1, H, "").await.is_empty(),
            "{tlp}"
        );
        assert!(matches(&w.h, &w.no_read.1, H, "").await.is_empty(), "{tlp}");
    }
}

#[tokio::test]
async fn red_hashes_reach_only_their_recipients_and_anonymous_ones_name_the_exchange() {
    let w = world(Tlp::Amber);
    let red = with_sharing(
        pdq_indicator(H, &[Tlp::Red.marking_ref()]),
        &[&w.outsider.0],
        false,
    );
    let id = publish_one(&w, red).await;
    assert_eq!(matches(&w.h, &w.outsider.1, H, "").await, vec![(id, 0)]);
    assert!(matches(&w.h, &w.reader.1, H, "").await.is_empty());

    let w = world(Tlp::Clear);
    let anon = with_sharing(pdq_indicator(H, &[Tlp::Green.marking_ref()]), &[], true);
    publish_one(&w, anon).await;
    let path = "/v1/media/match";
    let (_, body) = send(
        &w.h,
        &w.reader.1,
        path,
        "application/json",
        json!({"hash": H}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(body["matches"][0]["source_name"], json!("the exchange"));
    assert!(!body.to_string().contains(&w.publisher.0.identity));
}

#[tokio::test]
async fn a_new_version_replaces_the_hash_and_revocation_removes_it() {
    let w = world(Tlp::Clear);
    let v1 = pdq_indicator(H, &[]);
    let id = publish_one(&w, v1.clone()).await;
    let other = flipped(H, 100);
    let mut v2 = v1.clone();
    v2["pattern"] = json!(format!("[file:hashes.'pdq' = '{other}']"));
    v2["modified"] = json!("2026-02-01T00:00:00.000Z");
    publish_one(&w, v2.clone()).await;
    assert!(matches(&w.h, &w.reader.1, H, "").await.is_empty());
    assert_eq!(matches(&w.h, &w.reader.1, &other, "").await, vec![(id, 0)]);
    let mut v3 = v2;
    v3["modified"] = json!("2026-03-01T00:00:00.000Z");
    v3["revoked"] = json!(true);
    publish_one(&w, v3).await;
    assert!(matches(&w.h, &w.reader.1, &other, "").await.is_empty());
}

#[tokio::test]
async fn an_uploaded_image_is_hashed_and_matched() {
    let w = world(Tlp::Clear);
    let textured = png(64, 48, |x, y| {
        let v = ((x * 37 + y * 91) % 251) as u8;
        [v, v.wrapping_mul(3), 255 - v]
    });
    let (status, hashed) = send(
        &w.h,
        &w.reader.1,
        "/v1/media/hash",
        "image/png",
        textured.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{hashed}");
    assert_eq!(hashed["width"], json!(64));
    let hash = hashed["hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);
    let id = publish_one(&w, pdq_indicator(&hash, &[])).await;
    let (status, found) = send(
        &w.h,
        &w.reader.1,
        "/v1/media/match?quality_floor=0",
        "image/png",
        textured,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["matches"][0]["indicator"], json!(id));
    assert_eq!(found["matches"][0]["distance"], json!(0));
}

#[tokio::test]
async fn flat_images_garbage_and_bad_parameters_are_refused_with_reasons() {
    let w = world(Tlp::Clear);
    let flat = png(32, 32, |_, _| [128, 128, 128]);
    let (status, body) = send(&w.h, &w.reader.1, "/v1/media/match", "image/png", flat).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["description"].as_str().unwrap().contains("quality"),
        "{body}"
    );
    let (status, body) = send(
        &w.h,
        &w.reader.1,
        "/v1/media/hash",
        "image/png",
        b"not an image".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = send(
        &w.h,
        &w.reader.1,
        "/v1/media/match?threshold=999",
        "application/json",
        json!({"hash": H}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = send(
        &w.h,
        &w.reader.1,
        "/v1/media/match",
        "application/json",
        json!({"hash": "abc"}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["description"].as_str().unwrap().starts_with("hash:"),
        "{body}"
    );
    let (status, _) = send(&w.h, "acc_nope", "/v1/media/hash", "image/png", Vec::new()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
