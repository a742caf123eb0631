//! Part (a): PDQ hashing, Accord against `pdqhash`, one thread each.
//!
//! Every image is decoded once, by `accord_media::decode`, into 8-bit RGB; the pixels go to
//! one raw file, described by `manifest.json`, so that both sides hash the very same bytes:
//! Accord with `pdq::Hasher::hash_rgb`, Python with `pdqhash.compute` on a numpy array read
//! from that file. Both sides must give the same hash and quality for every image.
//!
//! Then each side starts from the file's bytes: Accord decodes with `accord_media::decode`
//! and hashes; Python opens the file with Pillow, converts it to RGB, takes it as a numpy
//! array and calls `pdqhash.compute`, as a user of that package does. JPEG decoders round
//! differently, so the hashes of that pass may differ by a few bits; their distances are
//! printed, not checked.
//!
//! The files read are held in memory before any clock starts, on both sides.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use accord_media::decode::{Limits, Orientation, Rgb, decode};
use accord_media::pdq::{Hasher, PdqHash};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::common::fmt_rate;
use crate::rng::Rng;
use crate::{Cli, Python, timed};

/// The sets of images hashed, each timed on its own.
const FOLDERS: [&str; 2] = ["images", "png"];

struct Image {
    name: String,
    path: PathBuf,
    bytes: Vec<u8>,
    rgb: Rgb,
}

struct Group {
    name: String,
    images: Vec<Image>,
}

impl Group {
    fn megapixels(&self) -> f64 {
        self.images
            .iter()
            .map(|i| f64::from(i.rgb.width) * f64::from(i.rgb.height))
            .sum::<f64>()
            / 1e6
    }
}

/// A timed measurement: whole passes over a group.
#[derive(Clone, Copy)]
struct Timing {
    passes: usize,
    elapsed: Duration,
}

impl Timing {
    fn per_pass(&self) -> f64 {
        self.elapsed.as_secs_f64() / self.passes.max(1) as f64
    }

    fn from_json(v: &Value) -> Result<Self> {
        let passes = v["passes"].as_u64().context("timing without passes")?;
        let seconds = v["seconds"].as_f64().context("timing without seconds")?;
        Ok(Timing {
            passes: usize::try_from(passes)?,
            elapsed: Duration::from_secs_f64(seconds.max(0.0)),
        })
    }
}

/// One group's figures on both sides.
struct Measured {
    accord_hash: Timing,
    accord_decode: Timing,
    python_hash: Timing,
    python_decode: Timing,
    /// Seconds per pass of pdqhash.compute spent outside the C++ core (numpy luminance and
    /// the Python bit vector), measured apart.
    python_outside_core: f64,
    accord: Vec<(PdqHash, u8)>,
    python: Vec<(PdqHash, u8)>,
    python_decoded: Vec<(PdqHash, u8)>,
}

pub fn run(cli: &Cli, python: &Python, testdata: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
    let (groups, source) = load(testdata, dir, cli.seed)?;
    let manifest = write_pixels(&groups, dir)?;
    let min = Duration::from_secs_f64(cli.seconds);

    println!("(a) PDQ hashing, one thread each");
    println!("images     {source}");
    println!(
        "           each measurement repeats its set until it has run {:.1} s (after one untimed pass)",
        cli.seconds
    );

    let mut measured = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        eprintln!(
            "hashing: accord on {}/ ({} images)",
            group.name,
            group.images.len()
        );
        let mut hasher = Hasher::new();
        let mut accord = Vec::with_capacity(group.images.len());
        for image in &group.images {
            let h = hasher
                .hash_rgb(image.rgb.width, image.rgb.height, &image.rgb.pixels)
                .with_context(|| format!("hashing {}", image.name))?;
            accord.push((h.hash, h.quality));
        }
        let (passes, elapsed) = timed(min, || {
            for image in &group.images {
                let h = hasher.hash_rgb(image.rgb.width, image.rgb.height, &image.rgb.pixels)?;
                std::hint::black_box(h);
            }
            Ok(())
        })?;
        let accord_hash = Timing { passes, elapsed };
        let limits = Limits::default();
        let (passes, elapsed) = timed(min, || {
            for image in &group.images {
                let rgb = decode(&image.bytes, &limits, Orientation::Ignore)?;
                let h = hasher.hash_rgb(rgb.width, rgb.height, &rgb.pixels)?;
                std::hint::black_box(h);
            }
            Ok(())
        })?;
        let accord_decode = Timing { passes, elapsed };

        eprintln!("hashing: pdqhash on {}/", group.name);
        let out = python.run(&[
            "hash",
            &manifest.display().to_string(),
            "--group",
            &g.to_string(),
            "--seconds",
            &cli.seconds.to_string(),
        ])?;
        let hashes = |key: &str| -> Result<Vec<(PdqHash, u8)>> {
            let list = out[key]
                .as_array()
                .with_context(|| format!("run.py hash printed no {key}"))?;
            list.iter()
                .map(|v| {
                    let hex = v[0].as_str().context("hash without hex")?;
                    let quality = v[1].as_u64().context("hash without quality")?;
                    Ok((hex.parse()?, u8::try_from(quality)?))
                })
                .collect()
        };
        let python_hashes = hashes("hashes")?;
        let python_decoded = hashes("decoded_hashes")?;
        if python_hashes.len() != group.images.len() || python_decoded.len() != group.images.len() {
            bail!("run.py hash returned a different number of hashes than images");
        }
        measured.push(Measured {
            accord_hash,
            accord_decode,
            python_hash: Timing::from_json(&out["hash"])?,
            python_decode: Timing::from_json(&out["decode"])?,
            python_outside_core: out["outside_core_seconds_per_pass"].as_f64().unwrap_or(0.0),
            accord,
            python: python_hashes,
            python_decoded,
        });
    }
    report(&groups, &measured)
}

/// Reads and decodes the images of each folder of `testdata`, or makes synthetic ones in
/// `dir` when there are none.
fn load(testdata: &Path, dir: &Path, seed: u64) -> Result<(Vec<Group>, String)> {
    let mut groups = Vec::new();
    for folder in FOLDERS {
        let path = testdata.join(folder);
        if !path.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let mut images = Vec::with_capacity(files.len());
        for file in files {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let rgb = decode(&bytes, &Limits::default(), Orientation::Ignore)
                .with_context(|| format!("decoding {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            images.push(Image {
                name,
                path: file,
                bytes,
                rgb,
            });
        }
        if !images.is_empty() {
            groups.push(Group {
                name: folder.to_owned(),
                images,
            });
        }
    }
    if !groups.is_empty() {
        let source = format!(
            "the PDQ test images in {} ({})",
            testdata.display(),
            groups
                .iter()
                .map(|g| format!("{}/: {}", g.name, g.images.len()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok((groups, source));
    }
    let group = synthetic(dir, seed)?;
    let source = format!(
        "SYNTHETIC: {} made-up PNG images (seed {seed}), because {} has no images/ or png/ \
         folder; pass --testdata",
        group.images.len(),
        testdata.display()
    );
    Ok((vec![group], source))
}

/// Sizes of the synthetic images, from a large photo down to a thumbnail.
const SYNTHETIC: [(u32, u32); 8] = [
    (1600, 1004),
    (1004, 1600),
    (1152, 723),
    (924, 735),
    (512, 512),
    (256, 256),
    (224, 399),
    (160, 100),
];

/// Seeded images with structure at several scales (so that their hashes have quality),
/// written as PNG files in `dir` and decoded from there like real ones.
fn synthetic(dir: &Path, seed: u64) -> Result<Group> {
    let mut rng = Rng::new(seed ^ 0x1A4E);
    let mut images = Vec::new();
    for (i, &(w, h)) in SYNTHETIC.iter().enumerate() {
        let blobs: Vec<(f32, f32, f32, [f32; 3])> = (0..12)
            .map(|_| {
                let x = rng.below(u64::from(w)) as f32;
                let y = rng.below(u64::from(h)) as f32;
                let r = (w.min(h) as f32) * (0.05 + rng.below(20) as f32 / 100.0);
                let c = [
                    rng.below(256) as f32,
                    rng.below(256) as f32,
                    rng.below(256) as f32,
                ];
                (x, y, r, c)
            })
            .collect();
        let mut pixels = Vec::with_capacity(w as usize * h as usize * 3);
        for y in 0..h {
            for x in 0..w {
                let mut c = [
                    (x * 255 / w) as f32,
                    (y * 255 / h) as f32,
                    ((x + y) % 64 * 4) as f32,
                ];
                for (bx, by, r, bc) in &blobs {
                    let (dx, dy) = (x as f32 - bx, y as f32 - by);
                    if dx * dx + dy * dy < r * r {
                        c = *bc;
                    }
                }
                let noise = rng.below(16) as f32;
                pixels.extend(c.iter().map(|v| (v * 0.9 + noise).min(255.0) as u8));
            }
        }
        let image =
            image::RgbImage::from_raw(w, h, pixels).context("synthetic image of the wrong size")?;
        let mut bytes = Vec::new();
        image
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .context("encoding a synthetic PNG")?;
        let name = format!("synthetic-{i}-{w}x{h}.png");
        let path = dir.join(&name);
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        let rgb = decode(&bytes, &Limits::default(), Orientation::Ignore)?;
        images.push(Image {
            name,
            path,
            bytes,
            rgb,
        });
    }
    Ok(Group {
        name: "synthetic".into(),
        images,
    })
}

/// Writes every decoded image to `pixels.rgb` and describes them in `manifest.json`.
fn write_pixels(groups: &[Group], dir: &Path) -> Result<PathBuf> {
    let raw = dir.join("pixels.rgb");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&raw).with_context(|| format!("creating {}", raw.display()))?,
    );
    let mut offset = 0usize;
    let mut described = Vec::new();
    for group in groups {
        let mut images = Vec::new();
        for image in &group.images {
            out.write_all(&image.rgb.pixels)?;
            images.push(json!({
                "name": image.name,
                "path": image.path,
                "width": image.rgb.width,
                "height": image.rgb.height,
                "offset": offset,
            }));
            offset += image.rgb.pixels.len();
        }
        described.push(json!({ "name": group.name, "images": images }));
    }
    out.flush()?;
    let manifest = dir.join("manifest.json");
    let text = serde_json::to_string(&json!({ "pixels": raw, "groups": described }))?;
    std::fs::write(&manifest, text).with_context(|| format!("writing {}", manifest.display()))?;
    Ok(manifest)
}

fn report(groups: &[Group], measured: &[Measured]) -> Result<()> {
    println!();
    println!(
        "{:<34} {:>7} {:>8} {:>11} {:>9} {:>11} {:>9} {:>8}",
        "same decoded RGB pixels",
        "images",
        "MP",
        "accord/s",
        "ms/MP",
        "pdqhash/s",
        "ms/MP",
        "ratio"
    );
    let row = |label: &str, images: usize, mp: f64, a: f64, p: f64| {
        // a and p are seconds per pass.
        println!(
            "{label:<34} {images:>7} {mp:>8.2} {:>11} {:>9.2} {:>11} {:>9.2} {:>7.2}x",
            fmt_rate(images as f64 / a),
            1e3 * a / mp,
            fmt_rate(images as f64 / p),
            1e3 * p / mp,
            p / a
        );
    };
    let (mut n, mut mp, mut a, mut p, mut core) = (0, 0.0, 0.0, 0.0, 0.0);
    for (group, m) in groups.iter().zip(measured) {
        row(
            &format!("  {}/", group.name),
            group.images.len(),
            group.megapixels(),
            m.accord_hash.per_pass(),
            m.python_hash.per_pass(),
        );
        n += group.images.len();
        mp += group.megapixels();
        a += m.accord_hash.per_pass();
        p += m.python_hash.per_pass();
        core += m.python_hash.per_pass() - m.python_outside_core;
    }
    if groups.len() > 1 {
        row("  all (one pass over each set)", n, mp, a, p);
    }
    println!(
        "  pdqhash.compute = numpy luminance (float64, then float32) + the C++ core + a Python \
         list of 256 bits; measured apart, the C++ core is about {:.0}% of its time, so against \
         the core alone the ratio is about {:.2}x",
        100.0 * core / p.max(1e-12),
        core / a.max(1e-12)
    );
    println!(
        "  target: at least as fast as the C++ core per core: {} ({:.2}x against the core alone, \
         {:.2}x against pdqhash.compute, all sets, one thread each)",
        if core >= a { "met" } else { "MISSED" },
        core / a.max(1e-12),
        p / a.max(1e-12)
    );
    println!();
    println!(
        "{:<34} {:>7} {:>8} {:>11} {:>9} {:>11} {:>9} {:>8}",
        "from the file bytes, decode + hash",
        "images",
        "MP",
        "accord/s",
        "ms/MP",
        "PIL+pdq/s",
        "ms/MP",
        "ratio"
    );
    let (mut a, mut p) = (0.0, 0.0);
    for (group, m) in groups.iter().zip(measured) {
        row(
            &format!("  {}/", group.name),
            group.images.len(),
            group.megapixels(),
            m.accord_decode.per_pass(),
            m.python_decode.per_pass(),
        );
        a += m.accord_decode.per_pass();
        p += m.python_decode.per_pass();
    }
    if groups.len() > 1 {
        row("  all (one pass over each set)", n, mp, a, p);
    }
    println!(
        "  accord: accord_media::decode (image crate) + Hasher::hash_rgb; python: \
         PIL.Image.open(BytesIO).convert(\"RGB\") + numpy.asarray + pdqhash.compute"
    );
    for (group, m) in groups.iter().zip(measured) {
        println!(
            "  passes timed on {}/: accord {} and {}, pdqhash {} and {}",
            group.name,
            m.accord_hash.passes,
            m.accord_decode.passes,
            m.python_hash.passes,
            m.python_decode.passes
        );
    }

    // Agreement.
    println!();
    let mut differ = Vec::new();
    let mut decoded = Vec::new();
    for (group, m) in groups.iter().zip(measured) {
        for (i, image) in group.images.iter().enumerate() {
            let (ah, aq) = m.accord[i];
            let (ph, pq) = m.python[i];
            if ah != ph || aq != pq {
                differ.push((
                    format!("{}/{}", group.name, image.name),
                    ah.distance(&ph),
                    aq,
                    pq,
                ));
            }
            let (dh, dq) = m.python_decoded[i];
            let png = image.bytes.starts_with(b"\x89PNG");
            decoded.push((
                format!("{}/{}", group.name, image.name),
                ah.distance(&dh),
                aq,
                dq,
                png,
            ));
        }
    }
    if differ.is_empty() {
        println!(
            "agreement  same pixels: both sides gave the same hash and quality for all {n} images"
        );
    } else {
        println!(
            "agreement  same pixels: {} of {n} images hash differently:",
            differ.len()
        );
        for (name, d, aq, pq) in &differ {
            println!("  {name}: distance {d}, quality accord {aq}, pdqhash {pq}");
        }
    }
    let apart: Vec<_> = decoded
        .iter()
        .filter(|(_, d, aq, dq, _)| *d > 0 || aq != dq)
        .collect();
    println!(
        "           each side decoding the file itself: {} of {n} hashes identical (JPEG decoders \
         round differently; PNG must be identical){}",
        n - apart.len(),
        if apart.is_empty() { "" } else { ":" }
    );
    for (name, d, aq, dq, _) in &apart {
        println!("  {name}: distance {d}, quality accord {aq}, PIL+pdqhash {dq}");
    }
    println!();
    if let Some((name, d, ..)) = differ.iter().find(|(_, d, ..)| *d > 0) {
        bail!("accord and pdqhash hash the same pixels of {name} {d} bits apart");
    }
    if let Some((name, d, ..)) = apart.iter().find(|(.., png)| *png) {
        bail!("accord and PIL+pdqhash hash the PNG file {name} {d} bits apart");
    }
    Ok(())
}
