//! The PDQ perceptual hash: 256 bits that stay nearly the same when an image is resized,
//! recompressed or lightly edited, so that two images can be compared by the Hamming
//! distance of their hashes.
//!
//! The computation follows the reference implementation (`pdq/cpp` of Meta's ThreatExchange)
//! operation for operation, in the same floating-point types and the same order, because
//! hashes are exchanged with other parties: a hash that is merely "close" to the reference
//! on lossless input would silently lose matches at the edge of a match threshold.
//!
//! 1. Luminance per pixel, `0.299 R + 0.587 G + 0.114 B` in `f32`.
//! 2. A tent filter (a box filter applied twice along each axis, Jarosz), with a window of
//!    `ceil(dimension / 128)` pixels, then decimation to 64 × 64 by sampling pixel centres.
//! 3. Quality: the count of significant gradients in the 64 × 64 image, 0 to 100.
//! 4. The 16 × 16 lowest non-constant frequencies of a 2-D DCT of the 64 × 64 image.
//! 5. One bit per frequency: set when it is strictly above the median (Torben's method).
//!
//! The eight dihedral variants (rotations and flips) come from the same DCT by changing signs
//! and transposing, without hashing transformed images again.
//!
//! Only the work that reaches the 64 × 64 result is done: the second pass along rows keeps
//! the 64 sampled columns, and the second pass along columns runs on those columns only.
//! Each kept value is computed by the same sequence of floating-point operations as in the
//! reference, so the shortcut changes nothing in the output. Passes along rows filter
//! several rows in lock-step and passes along columns all columns at once, for independent
//! work and memory read in order; again each value sees the reference's operations. A
//! [`Hasher`] keeps its buffers between images.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// A 256-bit PDQ hash.
///
/// The bytes are in the order of the usual text form (64 hex digits, most significant first):
/// byte 0 is the high byte of the reference's word 15. Bit `k` of the reference (the DCT
/// coefficient at row `k / 16`, column `k % 16`) is bit `k % 8` of byte
/// `2 * (15 - k / 16) + (1 if k % 16 < 8 else 0)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PdqHash(pub [u8; 32]);

impl PdqHash {
    /// The number of bits that differ between two hashes (0 to 256). Reference tools call
    /// images with a distance of at most 31 a match.
    pub fn distance(&self, other: &PdqHash) -> u32 {
        let mut d = 0;
        for (a, b) in self.0.chunks_exact(8).zip(other.0.chunks_exact(8)) {
            let mut x = [0u8; 8];
            let mut y = [0u8; 8];
            x.copy_from_slice(a);
            y.copy_from_slice(b);
            d += (u64::from_ne_bytes(x) ^ u64::from_ne_bytes(y)).count_ones();
        }
        d
    }

    /// Bit `k` (0 to 255) in the reference's numbering: row `k / 16`, column `k % 16` of
    /// the 16 × 16 DCT.
    pub fn bit(&self, k: u8) -> bool {
        let (byte, mask) = bit_position(k);
        self.0[byte] & mask != 0
    }

    fn set_bit(&mut self, k: u8) {
        let (byte, mask) = bit_position(k);
        self.0[byte] |= mask;
    }
}

fn bit_position(k: u8) -> (usize, u8) {
    let word = usize::from(k >> 4);
    let bit = k & 15;
    let byte = 2 * (15 - word) + usize::from(bit < 8);
    (byte, 1 << (bit & 7))
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({self})")
    }
}

/// Why a text could not be read as a PDQ hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseHashError {
    /// The text is not 64 characters long.
    #[error("a PDQ hash is 64 hex digits, this one has {len} characters")]
    Length {
        /// The number of characters found.
        len: usize,
    },
    /// A character is not a hex digit (`0-9`, `a-f`, `A-F`).
    #[error("a PDQ hash is 64 hex digits, found {found:?} at position {position}")]
    NotHex {
        /// The offending character.
        found: char,
        /// Its position, counted in characters from 0.
        position: usize,
    },
}

impl FromStr for PdqHash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let len = s.chars().count();
        if len != 64 {
            return Err(ParseHashError::Length { len });
        }
        let mut out = [0u8; 32];
        for (position, c) in s.chars().enumerate() {
            let v = c
                .to_digit(16)
                .ok_or(ParseHashError::NotHex { found: c, position })?;
            // A hex digit is below 16.
            let v = v as u8;
            out[position / 2] |= if position % 2 == 0 { v << 4 } else { v };
        }
        Ok(PdqHash(out))
    }
}

/// A hash with the quality of the image it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hashed {
    /// The hash.
    pub hash: PdqHash,
    /// 0 to 100: how much detail the image has. Reference tools ignore hashes below 50 (flat
    /// or nearly blank images all hash alike).
    pub quality: u8,
}

/// Why an image could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PdqError {
    /// The image is narrower or shorter than 5 pixels. The reference returns an all-zero
    /// hash for such images; it is refused here so that it can never match other tiny images.
    #[error("a {width}x{height} image is too small to hash: PDQ needs at least 5x5 pixels")]
    TooSmall {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The pixel buffer does not have the length the dimensions call for.
    #[error(
        "a {width}x{height} image needs {expected} values ({per_pixel} per pixel), the buffer has {actual}"
    )]
    BufferLength {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Values per pixel (3 for RGB, 1 for luminance).
        per_pixel: usize,
        /// The length expected.
        expected: u64,
        /// The length given.
        actual: usize,
    },
}

/// The names of the eight dihedral variants, in the order of [`hash_rgb_dihedral`]'s
/// result (and of the reference's output).
pub const DIHEDRAL_NAMES: [&str; 8] = [
    "orig",
    "rot90",
    "rot180",
    "rot270",
    "flipx",
    "flipy",
    "flipplus1",
    "flipminus1",
];

/// Hashes an image given as 8-bit RGB pixels, row-major, 3 bytes per pixel, at full size.
pub fn hash_rgb(width: u32, height: u32, rgb: &[u8]) -> Result<Hashed, PdqError> {
    Hasher::new().hash_rgb(width, height, rgb)
}

/// Hashes an image given as 8-bit RGB pixels and returns its eight dihedral hashes, in the
/// order of [`DIHEDRAL_NAMES`] (original, rotations by 90, 180 and 270 degrees, flips about
/// the x axis, the y axis, the main diagonal and the anti-diagonal), with the quality.
pub fn hash_rgb_dihedral(
    width: u32,
    height: u32,
    rgb: &[u8],
) -> Result<([PdqHash; 8], u8), PdqError> {
    Hasher::new().hash_rgb_dihedral(width, height, rgb)
}

/// Hashes an image given as luminance values (row-major, one `f32` per pixel, 0 to 255).
pub fn hash_luma(width: u32, height: u32, luma: &[f32]) -> Result<Hashed, PdqError> {
    Hasher::new().hash_luma(width, height, luma)
}

/// Hashes images one after the other, keeping its buffers between them so that hashing many
/// images allocates only when one is larger than all before it.
#[derive(Default)]
pub struct Hasher {
    /// The image after the first pass along rows (full size).
    full: Vec<f32>,
    /// A block of [`LANES`] rows: luminance, or rows from the first pass along columns.
    row_in: Vec<f32>,
    /// The same block after the second pass along rows.
    row_out: Vec<f32>,
    /// Running sums of the passes along columns, one per column.
    sums: Vec<f32>,
    /// One output row of the first pass along columns.
    col_row: Vec<f32>,
    /// The 64 sampled columns after the second pass along rows (height × 64).
    narrow: Vec<f32>,
    /// The same after the second pass along columns (height × 64).
    narrow_out: Vec<f32>,
}

/// The 64 × 64 downsampled image.
type Image64 = [[f32; 64]; 64];
/// The 16 × 16 DCT coefficients.
type Dct16 = [[f32; 16]; 16];

enum Pixels<'a> {
    Rgb(&'a [u8]),
    Luma(&'a [f32]),
}

impl Pixels<'_> {
    /// Writes the luminance of row `r` of a `width`-wide image into `out`.
    fn luma_row(&self, r: usize, width: usize, out: &mut [f32]) {
        match self {
            Pixels::Rgb(rgb) => {
                let row = &rgb[r * width * 3..(r + 1) * width * 3];
                for (o, p) in out.iter_mut().zip(row.chunks_exact(3)) {
                    *o = LUMA_R * f32::from(p[0])
                        + LUMA_G * f32::from(p[1])
                        + LUMA_B * f32::from(p[2]);
                }
            }
            Pixels::Luma(luma) => out.copy_from_slice(&luma[r * width..(r + 1) * width]),
        }
    }
}

const LUMA_R: f32 = 0.299;
const LUMA_G: f32 = 0.587;
const LUMA_B: f32 = 0.114;
const MIN_DIMENSION: u32 = 5;

impl Hasher {
    /// A hasher with empty buffers.
    pub fn new() -> Hasher {
        Hasher::default()
    }

    /// See [`hash_rgb`].
    pub fn hash_rgb(&mut self, width: u32, height: u32, rgb: &[u8]) -> Result<Hashed, PdqError> {
        check(width, height, 3, rgb.len())?;
        let (dct, quality) = self.dct(width, height, &Pixels::Rgb(rgb), true);
        Ok(Hashed {
            hash: bits(&dct),
            quality,
        })
    }

    /// See [`hash_luma`].
    pub fn hash_luma(&mut self, width: u32, height: u32, luma: &[f32]) -> Result<Hashed, PdqError> {
        check(width, height, 1, luma.len())?;
        let (dct, quality) = self.dct(width, height, &Pixels::Luma(luma), true);
        Ok(Hashed {
            hash: bits(&dct),
            quality,
        })
    }

    /// See [`hash_rgb_dihedral`].
    pub fn hash_rgb_dihedral(
        &mut self,
        width: u32,
        height: u32,
        rgb: &[u8],
    ) -> Result<([PdqHash; 8], u8), PdqError> {
        check(width, height, 3, rgb.len())?;
        // The reference's dihedral entry point has no 64 × 64 shortcut: it always filters.
        let (dct, quality) = self.dct(width, height, &Pixels::Rgb(rgb), false);
        Ok((dihedral(&dct), quality))
    }

    /// Filters, decimates and transforms an image: the DCT and the quality.
    ///
    /// `shortcut_64`: like the reference's single-hash entry point, take a 64 × 64 image as
    /// already downsampled (no filtering).
    fn dct(
        &mut self,
        width: u32,
        height: u32,
        pixels: &Pixels<'_>,
        shortcut_64: bool,
    ) -> (Box<Dct16>, u8) {
        let w = width as usize;
        let h = height as usize;
        let mut small: Box<Image64> = Box::new([[0.0; 64]; 64]);
        if shortcut_64 && w == 64 && h == 64 {
            for (r, row) in small.iter_mut().enumerate() {
                pixels.luma_row(r, 64, row);
            }
        } else {
            self.downsample(w, h, pixels, &mut small);
        }
        let quality = quality(&small);
        (dct64_to_16(&small), quality)
    }

    /// The reference's tent filter (two box passes along rows, two along columns,
    /// interleaved) followed by decimation to 64 × 64, computing only what decimation keeps.
    fn downsample(&mut self, w: usize, h: usize, pixels: &Pixels<'_>, out: &mut Image64) {
        let window_rows = window_size(w);
        let window_cols = window_size(h);
        let sample_cols: [usize; 64] = std::array::from_fn(|i| sample(i, w));
        let sample_rows: [usize; 64] = std::array::from_fn(|i| sample(i, h));

        resize(&mut self.full, w * h);
        resize(&mut self.row_in, LANES * w);
        resize(&mut self.row_out, LANES * w);
        resize(&mut self.col_row, w);
        resize(&mut self.narrow, h * 64);
        resize(&mut self.narrow_out, h * 64);

        // Pass 1 along rows: luminance, then the box filter, into `full`, a block of rows
        // at a time.
        for r0 in (0..h).step_by(LANES) {
            let rows = LANES.min(h - r0);
            for k in 0..rows {
                pixels.luma_row(r0 + k, w, &mut self.row_in[k * w..(k + 1) * w]);
            }
            box_rows(
                &self.row_in[..rows * w],
                &mut self.full[r0 * w..(r0 + rows) * w],
                w,
                window_rows,
            );
        }

        // Pass 1 along columns, streamed row by row; each block of finished rows goes through
        // pass 2 along rows at once, of which the 64 sampled columns are kept.
        {
            let Hasher {
                full,
                row_in,
                row_out,
                sums,
                col_row,
                narrow,
                ..
            } = self;
            let full: &[f32] = full;
            box_columns(full, w, h, window_cols, sums, col_row, |r, row| {
                let k = r % LANES;
                row_in[k * w..(k + 1) * w].copy_from_slice(row);
                if k < LANES - 1 && r < h - 1 {
                    return;
                }
                let (first, rows) = (r - k, k + 1);
                box_rows(
                    &row_in[..rows * w],
                    &mut row_out[..rows * w],
                    w,
                    window_rows,
                );
                for (j, src) in row_out[..rows * w].chunks_exact(w).enumerate() {
                    let dst = &mut narrow[(first + j) * 64..(first + j + 1) * 64];
                    for (d, &c) in dst.iter_mut().zip(&sample_cols) {
                        *d = src[c];
                    }
                }
            });
        }

        // Pass 2 along columns, on the 64 kept columns only.
        {
            let Hasher {
                narrow,
                narrow_out,
                sums,
                col_row,
                ..
            } = self;
            let narrow: &[f32] = narrow;
            box_columns(narrow, 64, h, window_cols, sums, col_row, |r, row| {
                narrow_out[r * 64..(r + 1) * 64].copy_from_slice(row);
            });
        }

        for (o, &r) in out.iter_mut().zip(&sample_rows) {
            o.copy_from_slice(&self.narrow_out[r * 64..(r + 1) * 64]);
        }
    }
}

fn check(width: u32, height: u32, per_pixel: usize, actual: usize) -> Result<(), PdqError> {
    let expected = u64::from(width) * u64::from(height) * per_pixel as u64;
    if expected != actual as u64 {
        return Err(PdqError::BufferLength {
            width,
            height,
            per_pixel,
            expected,
            actual,
        });
    }
    if width < MIN_DIMENSION || height < MIN_DIMENSION {
        return Err(PdqError::TooSmall { width, height });
    }
    Ok(())
}

fn resize(v: &mut Vec<f32>, len: usize) {
    if v.len() != len {
        v.resize(len, 0.0);
    }
}

/// The box filter's window along a dimension: half of `dimension / 64`, rounded up, since the
/// filter runs twice.
fn window_size(dimension: usize) -> usize {
    dimension.div_ceil(2 * 64)
}

/// The source pixel sampled for output position `i` of 64: the one under its centre.
fn sample(i: usize, dimension: usize) -> usize {
    // Same double-precision expression as the reference; the result is below `dimension`.
    (((i as f64 + 0.5) * dimension as f64) / 64.0) as usize
}

/// The reference's one-dimensional box filter: a running sum over a window centred on each
/// output (shrunk at the ends), divided by the number of values in it.
///
/// The running sum is updated by one addition and one subtraction per step, in that order,
/// exactly as the reference, because the rounding of those steps shows in the hash.
fn box_1d(input: &[f32], output: &mut [f32], window: usize) {
    let len = input.len();
    let half = (window + 2) / 2;
    let phase1 = half - 1;
    let phase2 = window - half + 1;
    let phase3 = len - window;
    let mut sum = 0.0f32;
    let mut count = 0usize;
    let mut ri = 0;
    let mut li = 0;
    let mut oi = 0;
    for _ in 0..phase1 {
        sum += input[ri];
        count += 1;
        ri += 1;
    }
    for _ in 0..phase2 {
        sum += input[ri];
        count += 1;
        output[oi] = sum / count as f32;
        ri += 1;
        oi += 1;
    }
    let n = count as f32;
    for _ in 0..phase3 {
        sum += input[ri];
        sum -= input[li];
        output[oi] = sum / n;
        li += 1;
        ri += 1;
        oi += 1;
    }
    while oi < len {
        sum -= input[li];
        count -= 1;
        output[oi] = sum / count as f32;
        li += 1;
        oi += 1;
    }
}

/// Rows filtered side by side: the box filter's running sum is a chain of dependent
/// additions, so filtering one row at a time leaves the processor waiting on each; running
/// this many rows in lock-step gives it independent work (and vector lanes).
const LANES: usize = 8;

/// [`box_1d`] on each `w`-long row of `input`, [`LANES`] rows at a time.
fn box_rows(input: &[f32], output: &mut [f32], w: usize, window: usize) {
    let mut blocks_in = input.chunks_exact(LANES * w);
    let mut blocks_out = output.chunks_exact_mut(LANES * w);
    for (i, o) in (&mut blocks_in).zip(&mut blocks_out) {
        box_lanes(i, o, w, window);
    }
    for (i, o) in blocks_in
        .remainder()
        .chunks_exact(w)
        .zip(blocks_out.into_remainder().chunks_exact_mut(w))
    {
        box_1d(i, o, window);
    }
}

/// [`box_1d`] on [`LANES`] rows of length `w` in lock-step: the same operations in the same
/// order for each row, so the results are identical.
fn box_lanes(input: &[f32], output: &mut [f32], w: usize, window: usize) {
    let at = |i: usize| -> [f32; LANES] { std::array::from_fn(|k| input[k * w + i]) };
    let mut put = |i: usize, sum: &[f32; LANES], n: f32| {
        for (k, s) in sum.iter().enumerate() {
            output[k * w + i] = s / n;
        }
    };
    let half = (window + 2) / 2;
    let phase1 = half - 1;
    let phase2 = window - half + 1;
    let phase3 = w - window;
    let mut sum = [0.0f32; LANES];
    let mut count = 0usize;
    let mut ri = 0;
    let mut li = 0;
    let mut oi = 0;
    for _ in 0..phase1 {
        let x = at(ri);
        for (s, x) in sum.iter_mut().zip(x) {
            *s += x;
        }
        count += 1;
        ri += 1;
    }
    for _ in 0..phase2 {
        let x = at(ri);
        for (s, x) in sum.iter_mut().zip(x) {
            *s += x;
        }
        count += 1;
        put(oi, &sum, count as f32);
        ri += 1;
        oi += 1;
    }
    let n = count as f32;
    for _ in 0..phase3 {
        let (x, y) = (at(ri), at(li));
        for ((s, x), y) in sum.iter_mut().zip(x).zip(y) {
            *s += x;
            *s -= y;
        }
        put(oi, &sum, n);
        li += 1;
        ri += 1;
        oi += 1;
    }
    while oi < w {
        let y = at(li);
        for (s, y) in sum.iter_mut().zip(y) {
            *s -= y;
        }
        count -= 1;
        put(oi, &sum, count as f32);
        li += 1;
        oi += 1;
    }
}

/// The box filter along the columns of a `w`-wide, `h`-high image, all columns at once (a
/// running sum per column), so that memory is read row by row. Each output row is handed to
/// `emit` with its index as soon as it is done.
fn box_columns(
    input: &[f32],
    w: usize,
    h: usize,
    window: usize,
    sums: &mut Vec<f32>,
    out_row: &mut Vec<f32>,
    mut emit: impl FnMut(usize, &[f32]),
) {
    sums.clear();
    sums.resize(w, 0.0);
    out_row.resize(w.max(out_row.len()), 0.0);
    let out_row = &mut out_row[..w];
    let row = |r: usize| &input[r * w..(r + 1) * w];

    let half = (window + 2) / 2;
    let phase1 = half - 1;
    let phase2 = window - half + 1;
    let phase3 = h - window;
    let mut count = 0usize;
    let mut ri = 0;
    let mut li = 0;
    let mut oi = 0;
    for _ in 0..phase1 {
        for (s, &x) in sums.iter_mut().zip(row(ri)) {
            *s += x;
        }
        count += 1;
        ri += 1;
    }
    for _ in 0..phase2 {
        count += 1;
        let n = count as f32;
        for ((s, &x), o) in sums.iter_mut().zip(row(ri)).zip(out_row.iter_mut()) {
            *s += x;
            *o = *s / n;
        }
        emit(oi, out_row);
        ri += 1;
        oi += 1;
    }
    let n = count as f32;
    for _ in 0..phase3 {
        for (((s, &x), &y), o) in sums
            .iter_mut()
            .zip(row(ri))
            .zip(row(li))
            .zip(out_row.iter_mut())
        {
            *s += x;
            *s -= y;
            *o = *s / n;
        }
        emit(oi, out_row);
        li += 1;
        ri += 1;
        oi += 1;
    }
    while oi < h {
        count -= 1;
        let n = count as f32;
        for ((s, &y), o) in sums.iter_mut().zip(row(li)).zip(out_row.iter_mut()) {
            *s -= y;
            *o = *s / n;
        }
        emit(oi, out_row);
        li += 1;
        oi += 1;
    }
}

/// The reference's quality metric: the sum of the absolute differences between neighbours
/// of the 64 × 64 image, each scaled to percent of the full range and truncated to an
/// integer before summing, divided by 90 and capped at 100.
fn quality(img: &Image64) -> u8 {
    let term = |u: f32, v: f32| (((u - v) * 100.0) / 255.0) as i32;
    let mut sum: i64 = 0;
    for (upper, lower) in img.iter().zip(&img[1..]) {
        for (&u, &v) in upper.iter().zip(lower) {
            sum += i64::from(term(u, v).abs());
        }
    }
    for row in img.iter() {
        for pair in row.windows(2) {
            sum += i64::from(term(pair[0], pair[1]).abs());
        }
    }
    // At most 100, so the conversion cannot fail.
    u8::try_from((sum / 90).min(100)).unwrap_or(100)
}

/// Rows 1 to 16 of the 64-point DCT-II matrix (row 0, the constant, is left out), computed
/// as the reference does: a single-precision scale times a double-precision cosine, rounded
/// to single precision.
fn dct_matrix() -> &'static [[f32; 64]; 16] {
    static MATRIX: OnceLock<[[f32; 64]; 16]> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let scale = (2.0f64 / 64.0).sqrt() as f32;
        let mut m = [[0.0f32; 64]; 16];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                let angle =
                    (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
                *v = (f64::from(scale) * angle.cos()) as f32;
            }
        }
        m
    })
}

/// `D A Dᵀ` for the 16 × 64 matrix `D` of [`dct_matrix`]: the 16 × 16 lowest non-constant
/// frequencies. Each sum runs over `k` in increasing order in `f32`, as in the reference.
fn dct64_to_16(a: &Image64) -> Box<Dct16> {
    let d = dct_matrix();
    let mut t = [[0.0f32; 64]; 16];
    for (drow, trow) in d.iter().zip(t.iter_mut()) {
        for (&dk, arow) in drow.iter().zip(a.iter()) {
            for (tj, &ak) in trow.iter_mut().zip(arow.iter()) {
                *tj += dk * ak;
            }
        }
    }
    let mut b: Box<Dct16> = Box::new([[0.0; 16]; 16]);
    for (trow, brow) in t.iter().zip(b.iter_mut()) {
        for (drow, bij) in d.iter().zip(brow.iter_mut()) {
            let mut s = 0.0f32;
            for (&x, &y) in trow.iter().zip(drow.iter()) {
                s += x * y;
            }
            *bij = s;
        }
    }
    b
}

/// One bit per coefficient: set when it is strictly above the median.
fn bits(dct: &Dct16) -> PdqHash {
    let flat: [f32; 256] = std::array::from_fn(|k| dct[k / 16][k % 16]);
    let median = torben_median(&flat);
    let mut hash = PdqHash::default();
    for (k, &v) in (0u8..=255).zip(flat.iter()) {
        if v > median {
            hash.set_bit(k);
        }
    }
    hash
}

/// The median by Torben Mogensen's method (repeated counting around a guess, no sorting
/// and no copy), with the reference's choice between the two middle values.
fn torben_median(m: &[f32; 256]) -> f32 {
    let n = m.len();
    let half = n.div_ceil(2);
    let mut min = m[0];
    let mut max = m[0];
    for &x in &m[1..] {
        if x < min {
            min = x;
        }
        if x > max {
            max = x;
        }
    }
    loop {
        let guess = (min + max) / 2.0;
        let mut less = 0;
        let mut greater = 0;
        let mut equal = 0;
        let mut max_lt = min;
        let mut min_gt = max;
        for &x in m {
            if x < guess {
                less += 1;
                if x > max_lt {
                    max_lt = x;
                }
            } else if x > guess {
                greater += 1;
                if x < min_gt {
                    min_gt = x;
                }
            } else {
                equal += 1;
            }
        }
        if less <= half && greater <= half {
            return if less >= half {
                max_lt
            } else if less + equal >= half {
                guess
            } else {
                min_gt
            };
        } else if less > greater {
            max = max_lt;
        } else {
            min = min_gt;
        }
    }
}

/// The eight dihedral variants of a DCT, by sign changes and transposition: rotating or
/// flipping an image negates the odd-frequency coefficients along the flipped axis and
/// swaps the axes for a quarter turn.
fn dihedral(a: &Dct16) -> [PdqHash; 8] {
    // Per variant: whether it transposes (a quarter turn or a diagonal flip swaps the axes),
    // and when coefficient A[i][j] (i the vertical frequency, j the horizontal) changes sign
    // (mirroring an axis negates its odd frequencies, whose index here is even since row 0
    // of the DCT is frequency 1).
    type Rule = (bool, fn(usize, usize) -> bool);
    const RULES: [Rule; 8] = [
        (false, |_, _| false),            // orig
        (true, |_, j| j & 1 == 0),        // rot90
        (false, |i, j| (i + j) & 1 == 1), // rot180
        (true, |i, _| i & 1 == 0),        // rot270
        (false, |i, _| i & 1 == 0),       // flipx
        (false, |_, j| j & 1 == 0),       // flipy
        (true, |_, _| false),             // flipplus1
        (true, |i, j| (i + j) & 1 == 1),  // flipminus1
    ];
    let mut b: Dct16 = [[0.0; 16]; 16];
    RULES.map(|(transpose, negate)| {
        for i in 0..16 {
            for j in 0..16 {
                let v = if negate(i, j) { -a[i][j] } else { a[i][j] };
                if transpose {
                    b[j][i] = v;
                } else {
                    b[i][j] = v;
                }
            }
        }
        bits(&b)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn box_filter_matches_the_reference_layout() {
        // Window 7 over 0..16: the sums of the reference's comment, divided by the count.
        let input: Vec<f32> = (0..16).map(|x| x as f32).collect();
        let mut out = vec![0.0; 16];
        box_1d(&input, &mut out, 7);
        let sums = [
            6, 10, 15, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 75, 65, 54,
        ];
        let counts = [4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 4];
        for k in 0..16 {
            assert_eq!(out[k], sums[k] as f32 / counts[k] as f32, "at {k}");
        }
        // Window 8.
        box_1d(&input, &mut out, 8);
        let sums = [
            10, 15, 21, 28, 36, 44, 52, 60, 68, 76, 84, 92, 84, 75, 65, 54,
        ];
        let counts = [5, 6, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7, 6, 5, 4];
        for k in 0..16 {
            assert_eq!(out[k], sums[k] as f32 / counts[k] as f32, "at {k}");
        }
    }

    #[test]
    fn columns_filter_like_rows() {
        let (w, h) = (7, 23);
        let input: Vec<f32> = (0..w * h).map(|x| ((x * 37) % 101) as f32 * 1.3).collect();
        let mut got = vec![0.0; w * h];
        let (mut sums, mut row) = (Vec::new(), Vec::new());
        box_columns(&input, w, h, 3, &mut sums, &mut row, |r, out| {
            got[r * w..(r + 1) * w].copy_from_slice(out);
        });
        for c in 0..w {
            let col: Vec<f32> = (0..h).map(|r| input[r * w + c]).collect();
            let mut want = vec![0.0; h];
            box_1d(&col, &mut want, 3);
            for r in 0..h {
                assert_eq!(got[r * w + c].to_bits(), want[r].to_bits());
            }
        }
    }

    #[test]
    fn rows_in_lock_step_filter_like_one_at_a_time() {
        let (w, h) = (29, 2 * LANES + 3);
        let input: Vec<f32> = (0..w * h).map(|x| ((x * 53) % 97) as f32 * 0.7).collect();
        for window in [1, 2, 3, 8] {
            let mut got = vec![0.0; w * h];
            box_rows(&input, &mut got, w, window);
            for r in 0..h {
                let mut want = vec![0.0; w];
                box_1d(&input[r * w..(r + 1) * w], &mut want, window);
                for c in 0..w {
                    assert_eq!(
                        got[r * w + c].to_bits(),
                        want[c].to_bits(),
                        "window {window}"
                    );
                }
            }
        }
    }

    #[test]
    fn median_of_even_count_is_the_lower_middle() {
        let mut m = [0.0f32; 256];
        for (k, v) in m.iter_mut().enumerate() {
            *v = ((k * 89) % 256) as f32;
        }
        assert_eq!(torben_median(&m), 127.0);
    }
}
