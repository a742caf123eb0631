//! PDQ: the text form and distance of hashes, and conformance with the reference on the
//! fixtures of `shared/testdata/pdq` (skipped, saying so, when they are absent).

use std::path::PathBuf;

use accord_media::decode::{Limits, Orientation, decode};
use accord_media::pdq::{self, Hasher, ParseHashError, PdqError, PdqHash};

fn check_parse(input: &str, expected: Result<&str, ParseHashError>) {
    let got = input.parse::<PdqHash>().map(|h| h.to_string());
    assert_eq!(got, expected.map(str::to_owned), "parsing {input:?}");
}

#[test]
fn hex_text_round_trips_and_refuses_malformed() {
    let h = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    check_parse(h, Ok(h));
    check_parse(&h.to_uppercase(), Ok(h));
    check_parse(&"0".repeat(64), Ok(&"0".repeat(64)));
    check_parse("", Err(ParseHashError::Length { len: 0 }));
    check_parse(&h[..63], Err(ParseHashError::Length { len: 63 }));
    check_parse(&format!("{h}0"), Err(ParseHashError::Length { len: 65 }));
    check_parse(
        &format!("{}g", &h[..63]),
        Err(ParseHashError::NotHex {
            found: 'g',
            position: 63,
        }),
    );
    check_parse(
        &format!(" {}", &h[1..]),
        Err(ParseHashError::NotHex {
            found: ' ',
            position: 0,
        }),
    );
    // 64 characters but more than 64 bytes.
    check_parse(
        &format!("é{}", &h[1..]),
        Err(ParseHashError::NotHex {
            found: 'é',
            position: 0,
        }),
    );
}

#[test]
fn parse_errors_say_what_a_hash_is() {
    let e = "abc".parse::<PdqHash>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "a PDQ hash is 64 hex digits, this one has 3 characters"
    );
}

fn check_distance(a: &str, b: &str, expected: u32) {
    let (x, y): (PdqHash, PdqHash) = (a.parse().unwrap(), b.parse().unwrap());
    assert_eq!(x.distance(&y), expected, "{a} vs {b}");
    assert_eq!(y.distance(&x), expected, "{b} vs {a}");
}

#[test]
fn distance_counts_differing_bits() {
    let zero = "0".repeat(64);
    let ones = "f".repeat(64);
    check_distance(&zero, &zero, 0);
    check_distance(&zero, &ones, 256);
    check_distance(&zero, &format!("1{}", &zero[1..]), 1);
    check_distance(&zero, &format!("{}8", &zero[..63]), 1);
    check_distance(&zero, &format!("{}7", &zero[..63]), 3);
    check_distance(
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
        "f8f8f0cee0f4a84f06370a2a038f63f0b36e26d596621e1d33e6b39c4e9c9b22",
        2,
    );
}

#[test]
fn bit_numbering_is_the_references() {
    // Bit k is bit k % 16 of word k / 16, and word 15 is printed first.
    let mut text = ["0"; 64];
    text[63] = "1";
    let h: PdqHash = text.concat().parse().unwrap();
    assert!(h.bit(0));
    let h: PdqHash = format!("8{}", "0".repeat(63)).parse().unwrap();
    assert!(h.bit(255));
    let h: PdqHash = format!("{}10{}", "0".repeat(60), "00").parse().unwrap();
    assert!(h.bit(12));
}

#[test]
fn refuses_tiny_images_and_wrong_buffers() {
    assert_eq!(
        pdq::hash_rgb(4, 100, &[0; 4 * 100 * 3]),
        Err(PdqError::TooSmall {
            width: 4,
            height: 100
        })
    );
    let e = pdq::hash_rgb(10, 10, &[0; 299]).unwrap_err();
    assert!(matches!(
        e,
        PdqError::BufferLength {
            expected: 300,
            actual: 299,
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "a 10x10 image needs 300 values (3 per pixel), the buffer has 299"
    );
}

#[test]
fn a_flat_image_has_quality_zero() {
    let h = pdq::hash_rgb(100, 80, &vec![128; 100 * 80 * 3]).unwrap();
    assert_eq!(h.quality, 0);
}

#[test]
fn luma_and_grey_rgb_agree() {
    let (w, h) = (97u32, 61u32);
    let grey: Vec<u8> = (0..w * h).map(|i| ((i * 7919) % 251) as u8).collect();
    let rgb: Vec<u8> = grey.iter().flat_map(|&g| [g, g, g]).collect();
    let luma: Vec<f32> = rgb
        .chunks_exact(3)
        .map(|p| {
            0.299f32 * f32::from(p[0]) + 0.587f32 * f32::from(p[1]) + 0.114f32 * f32::from(p[2])
        })
        .collect();
    assert_eq!(
        pdq::hash_rgb(w, h, &rgb).unwrap(),
        pdq::hash_luma(w, h, &luma).unwrap()
    );
}

#[test]
fn a_hasher_reused_on_different_sizes_gives_fresh_results() {
    let image = |w: u32, h: u32, seed: u32| -> Vec<u8> {
        (0..w * h * 3)
            .map(|i| ((i ^ seed).wrapping_mul(2654435761) >> 24) as u8)
            .collect()
    };
    let mut hasher = Hasher::new();
    for (w, h, seed) in [
        (300, 200, 1),
        (50, 70, 2),
        (300, 200, 3),
        (64, 64, 4),
        (1000, 9, 5),
    ] {
        let pixels = image(w, h, seed);
        assert_eq!(
            hasher.hash_rgb(w, h, &pixels).unwrap(),
            pdq::hash_rgb(w, h, &pixels).unwrap()
        );
        assert_eq!(
            hasher.hash_rgb_dihedral(w, h, &pixels).unwrap(),
            pdq::hash_rgb_dihedral(w, h, &pixels).unwrap()
        );
    }
}

/// One line of `expected.csv`.
struct Expected {
    file: String,
    hash: PdqHash,
    quality: u8,
    dihedral: [PdqHash; 8],
}

fn fixtures() -> Option<(PathBuf, Vec<Expected>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pdq");
    let Ok(csv) = std::fs::read_to_string(dir.join("expected.csv")) else {
        eprintln!(
            "SKIPPED: PDQ conformance: no fixtures at {} (expected.csv missing)",
            dir.display()
        );
        return None;
    };
    let rows = csv
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 11, "expected.csv line {line:?}");
            Expected {
                file: f[0].to_owned(),
                hash: f[1].parse().unwrap(),
                quality: f[2].parse().unwrap(),
                dihedral: std::array::from_fn(|i| f[3 + i].parse().unwrap()),
            }
        })
        .collect();
    Some((dir, rows))
}

fn hash_file(dir: &std::path::Path, file: &str) -> (pdq::Hashed, [PdqHash; 8], u8) {
    let bytes = std::fs::read(dir.join(file)).unwrap();
    let rgb = decode(&bytes, &Limits::default(), Orientation::Ignore).unwrap();
    let mut hasher = Hasher::new();
    let one = hasher.hash_rgb(rgb.width, rgb.height, &rgb.pixels).unwrap();
    let (dihedral, quality) = hasher
        .hash_rgb_dihedral(rgb.width, rgb.height, &rgb.pixels)
        .unwrap();
    (one, dihedral, quality)
}

#[test]
fn lossless_fixtures_hash_bit_for_bit() {
    let Some((dir, rows)) = fixtures() else {
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in rows.iter().filter(|r| r.file.ends_with(".png")) {
        checked += 1;
        let (one, dihedral, quality) = hash_file(&dir, &row.file);
        if one.hash != row.hash || one.quality != row.quality {
            failures.push(format!(
                "{}: got {} q{}, expected {} q{} (distance {})",
                row.file,
                one.hash,
                one.quality,
                row.hash,
                row.quality,
                one.hash.distance(&row.hash)
            ));
        }
        if quality != row.quality {
            failures.push(format!("{}: dihedral quality {quality}", row.file));
        }
        for (k, (got, want)) in dihedral.iter().zip(&row.dihedral).enumerate() {
            if got != want {
                failures.push(format!(
                    "{}: dihedral {} got {got}, expected {want} (distance {})",
                    row.file,
                    pdq::DIHEDRAL_NAMES[k],
                    got.distance(want)
                ));
            }
        }
    }
    eprintln!(
        "PDQ conformance: {checked} lossless fixtures, {} mismatches",
        failures.len()
    );
    assert!(checked >= 30, "only {checked} lossless fixtures found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn jpeg_fixtures_of_good_quality_hash_within_distance_10() {
    let Some((dir, rows)) = fixtures() else {
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in rows
        .iter()
        .filter(|r| r.file.starts_with("images/") && r.quality >= 80)
    {
        checked += 1;
        let (one, dihedral, _) = hash_file(&dir, &row.file);
        let d = one.hash.distance(&row.hash);
        let worst = dihedral
            .iter()
            .zip(&row.dihedral)
            .map(|(g, w)| g.distance(w))
            .max()
            .unwrap_or(0);
        if d > 10 || worst > 10 {
            failures.push(format!(
                "{}: distance {d}, worst dihedral distance {worst}",
                row.file
            ));
        }
    }
    eprintln!(
        "PDQ conformance: {checked} decoded originals of quality >= 80, {} beyond distance 10",
        failures.len()
    );
    assert!(
        checked >= 20,
        "only {checked} originals of quality >= 80 found"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
