//! Decoding uploaded images into RGB pixels, with limits.
//!
//! Images come from other parties, so decoding is where a hostile file does its harm: a
//! small file that claims to be 100000 × 100000 pixels (a decompression bomb) would have the
//! decoder allocate tens of gigabytes. The limits are therefore checked from the header,
//! before any pixel buffer exists, and the input's length is checked before anything else.
//!
//! JPEG, PNG, GIF (first frame), WebP, BMP and TIFF are read, whatever their colour type,
//! into 8-bit RGB: alpha is dropped (not composited), 16-bit samples are scaled down. The
//! format is recognised from the bytes, never from a file name.
//!
//! EXIF orientation is ignored by default ([`Orientation::Ignore`]): the PDQ reference tools
//! hash the pixels as they are stored, and so do hash lists built with them. Pass
//! [`Orientation::Apply`] to hash the image as a viewer shows it instead.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};

/// How much an input may ask of the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest image accepted, in pixels (width × height).
    pub max_pixels: u64,
    /// The longest input accepted, in bytes.
    pub max_bytes: usize,
}

impl Default for Limits {
    /// 50 million pixels (an 8660 × 5773 photo; 150 MB as RGB) and 64 MiB of input.
    fn default() -> Self {
        Limits {
            max_pixels: 50_000_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What to do with an EXIF orientation tag (JPEG, WebP, TIFF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Orientation {
    /// Rotate or flip the pixels as the tag says, as an image viewer does.
    Apply,
    /// Keep the pixels as stored, as the PDQ reference tools do. The default.
    #[default]
    Ignore,
}

/// A decoded image: 8-bit RGB, row-major, 3 bytes per pixel.
#[derive(Clone, PartialEq, Eq)]
pub struct Rgb {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes: R, G, B of each pixel, rows from the top.
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rgb")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("pixels", &format_args!("[{} bytes]", self.pixels.len()))
            .finish()
    }
}

/// Why an input could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is longer than [`Limits::max_bytes`]; nothing of it was read.
    #[error("the image is {len} bytes, more than the limit of {limit} bytes")]
    TooManyBytes {
        /// The input's length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The header announces more pixels than [`Limits::max_pixels`]; no pixel was decoded.
    #[error(
        "the image is {width}x{height} pixels ({pixels}), more than the limit of {limit} pixels"
    )]
    TooManyPixels {
        /// Width announced by the header.
        width: u32,
        /// Height announced by the header.
        height: u32,
        /// `width * height`.
        pixels: u64,
        /// The limit.
        limit: u64,
    },
    /// The bytes are not an image of a known format (JPEG, PNG, GIF, WebP, BMP, TIFF).
    #[error(
        "not a recognised image: expected JPEG, PNG, GIF, WebP, BMP or TIFF (the first bytes are {head})"
    )]
    UnknownFormat {
        /// The first bytes, in hex, to tell what the input was.
        head: String,
    },
    /// The format is recognised but this file uses a feature the decoder does not support,
    /// or the format is not among those compiled in.
    #[error("unsupported {format} image: {detail}")]
    Unsupported {
        /// The format, as recognised from the bytes.
        format: String,
        /// What is not supported.
        detail: String,
    },
    /// The file is damaged or truncated.
    #[error("malformed {format} image: {detail}")]
    Malformed {
        /// The format, as recognised from the bytes.
        format: String,
        /// What the decoder found wrong.
        detail: String,
    },
    /// The decoder would need more memory than the limits allow, for a reason other than
    /// the image's dimensions (for instance large metadata).
    #[error("the {format} image needs more memory to decode than the limits allow: {detail}")]
    TooMuchMemory {
        /// The format, as recognised from the bytes.
        format: String,
        /// The decoder's explanation.
        detail: String,
    },
}

/// Bytes of decoder memory allowed per pixel: enough for the widest sample type decoders
/// produce (4 channels of 32-bit floats), so that only the pixel limit refuses images.
const ALLOC_PER_PIXEL: u64 = 16;

/// Decodes an image, refusing it before decoding when it breaks `limits`.
pub fn decode(bytes: &[u8], limits: &Limits, orientation: Orientation) -> Result<Rgb, DecodeError> {
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooManyBytes {
            len: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| DecodeError::UnknownFormat {
        head: bytes.iter().take(8).map(|b| format!("{b:02x}")).collect(),
    })?;
    let name = format_name(format);

    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(
        limits
            .max_pixels
            .saturating_mul(ALLOC_PER_PIXEL)
            .max(limits.max_bytes as u64),
    );
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits.clone());
    // Reads the header only.
    let mut decoder = reader.into_decoder().map_err(|e| convert(e, name))?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(DecodeError::TooManyPixels {
            width,
            height,
            pixels,
            limit: limits.max_pixels,
        });
    }
    decoder_limits.max_image_width = Some(width);
    decoder_limits.max_image_height = Some(height);
    decoder
        .set_limits(decoder_limits)
        .map_err(|e| convert(e, name))?;

    let exif = match orientation {
        Orientation::Apply => Some(decoder.orientation().map_err(|e| convert(e, name))?),
        Orientation::Ignore => None,
    };
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| convert(e, name))?;
    if let Some(o) = exif {
        image.apply_orientation(o);
    }
    let rgb = image.into_rgb8();
    Ok(Rgb {
        width: rgb.width(),
        height: rgb.height(),
        pixels: rgb.into_raw(),
    })
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::Gif => "GIF",
        ImageFormat::WebP => "WebP",
        ImageFormat::Bmp => "BMP",
        ImageFormat::Tiff => "TIFF",
        other => other.extensions_str().first().copied().unwrap_or("unknown"),
    }
}

fn convert(e: ImageError, format: &str) -> DecodeError {
    let format = format.to_owned();
    match e {
        ImageError::Unsupported(u) => DecodeError::Unsupported {
            format,
            detail: u.to_string(),
        },
        ImageError::Limits(l) => DecodeError::TooMuchMemory {
            format,
            detail: l.to_string(),
        },
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeError::Malformed {
                format,
                detail: "the file ends early (truncated)".to_owned(),
            }
        }
        other => DecodeError::Malformed {
            format,
            detail: other.to_string(),
        },
    }
}
