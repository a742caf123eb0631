//! Decoding with limits: every format reads, hostile or broken input is refused with an
//! error that says why, and a decompression bomb is refused from its header.

use std::io::Cursor;

use accord_media::decode::{DecodeError, Limits, Orientation, decode};
use image::{ImageEncoder, ImageFormat, RgbImage};

/// A small image with distinct pixels, so that a transposed or shifted decode shows.
fn sample(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 40) as u8, (y * 60) as u8, ((x + y) * 20) as u8])
    })
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn decode_default(bytes: &[u8]) -> Result<accord_media::decode::Rgb, DecodeError> {
    decode(bytes, &Limits::default(), Orientation::Ignore)
}

/// `(format, lossless)`.
fn check_format(format: ImageFormat, lossless: bool) {
    let img = sample(6, 4);
    let bytes = encode(&img, format);
    let rgb = decode_default(&bytes).unwrap_or_else(|e| panic!("{format:?}: {e}"));
    assert_eq!((rgb.width, rgb.height), (6, 4), "{format:?}");
    assert_eq!(rgb.pixels.len(), 6 * 4 * 3, "{format:?}");
    if lossless {
        assert_eq!(rgb.pixels, img.into_raw(), "{format:?}");
    }
}

#[test]
fn each_format_decodes() {
    check_format(ImageFormat::Png, true);
    check_format(ImageFormat::Bmp, true);
    check_format(ImageFormat::Tiff, true);
    check_format(ImageFormat::WebP, true);
    check_format(ImageFormat::Jpeg, false);
    // GIF goes through a palette.
    check_format(ImageFormat::Gif, false);
}

#[test]
fn alpha_is_dropped_not_composited() {
    let img = image::RgbaImage::from_fn(5, 5, |x, _| image::Rgba([200, 100, x as u8, 0]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    let rgb = decode_default(out.get_ref()).unwrap();
    assert_eq!(&rgb.pixels[..6], &[200, 100, 0, 200, 100, 1]);
}

#[test]
fn gif_gives_the_first_frame() {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame, RgbaImage};
    let frame = |v: u8| {
        Frame::from_parts(
            RgbaImage::from_pixel(8, 8, image::Rgba([v, v, v, 255])),
            0,
            0,
            Delay::from_numer_denom_ms(100, 1),
        )
    };
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        encoder.encode_frames([frame(0), frame(255)]).unwrap();
    }
    let rgb = decode_default(&bytes).unwrap();
    assert_eq!((rgb.width, rgb.height), (8, 8));
    assert!(rgb.pixels.iter().all(|&v| v == 0), "{:?}", &rgb.pixels[..6]);
}

/// The CRC-32 of PNG chunks (ISO 3309), bit by bit: enough for one small chunk.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid 1×1 PNG whose header (IHDR) is rewritten to claim `width` × `height`.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = encode(&sample(1, 1), ImageFormat::Png);
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

#[test]
fn png_bomb_is_refused_from_its_header() {
    let bomb = png_claiming(100_000, 100_000);
    assert!(bomb.len() < 200);
    let e = decode_default(&bomb).unwrap_err();
    assert!(
        matches!(
            e,
            DecodeError::TooManyPixels {
                width: 100_000,
                height: 100_000,
                pixels: 10_000_000_000,
                limit: 50_000_000,
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "the image is 100000x100000 pixels (10000000000), more than the limit of 50000000 pixels"
    );
}

#[test]
fn jpeg_bomb_is_refused_from_its_header() {
    let mut jpeg = encode(&sample(8, 8), ImageFormat::Jpeg);
    // Start of frame (baseline): FF C0, length, precision, height, width.
    let sof = jpeg.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
    let e = decode_default(&jpeg).unwrap_err();
    assert!(
        matches!(
            e,
            DecodeError::TooManyPixels {
                width: 60_000,
                height: 60_000,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn pixel_limit_is_inclusive() {
    let bytes = encode(&sample(10, 10), ImageFormat::Png);
    let at = Limits {
        max_pixels: 100,
        ..Limits::default()
    };
    assert!(decode(&bytes, &at, Orientation::Ignore).is_ok());
    let below = Limits {
        max_pixels: 99,
        ..Limits::default()
    };
    assert!(matches!(
        decode(&bytes, &below, Orientation::Ignore),
        Err(DecodeError::TooManyPixels {
            width: 10,
            height: 10,
            pixels: 100,
            limit: 99
        })
    ));
}

#[test]
fn too_many_bytes_are_refused_before_reading() {
    let limits = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    let e = decode(&[0u8; 11], &limits, Orientation::Ignore).unwrap_err();
    assert!(
        matches!(e, DecodeError::TooManyBytes { len: 11, limit: 10 }),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "the image is 11 bytes, more than the limit of 10 bytes"
    );
}

#[test]
fn unknown_format_is_named() {
    let e = decode_default(b"hello, world").unwrap_err();
    assert!(matches!(e, DecodeError::UnknownFormat { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "not a recognised image: expected JPEG, PNG, GIF, WebP, BMP or TIFF \
         (the first bytes are 68656c6c6f2c2077)"
    );
    assert!(matches!(
        decode_default(b""),
        Err(DecodeError::UnknownFormat { .. })
    ));
}

#[test]
fn truncated_files_are_errors_not_panics() {
    for format in [
        ImageFormat::Png,
        ImageFormat::Gif,
        ImageFormat::WebP,
        ImageFormat::Bmp,
        ImageFormat::Tiff,
    ] {
        let bytes = encode(&sample(40, 30), format);
        for cut in [20, bytes.len() / 2, bytes.len() * 3 / 4] {
            let e = decode_default(&bytes[..cut]);
            assert!(
                matches!(e, Err(DecodeError::Malformed { .. })),
                "{format:?} cut at {cut} of {}: {e:?}",
                bytes.len()
            );
        }
    }
}

#[test]
fn truncated_jpeg_never_panics() {
    let bytes = encode(&sample(40, 30), ImageFormat::Jpeg);
    for cut in 0..bytes.len() {
        // A JPEG cut after its headers may decode with the missing part filled in (as most
        // decoders do); what matters is that no cut panics.
        let _ = decode_default(&bytes[..cut]);
    }
    let e = decode_default(&bytes[..bytes.len() / 4]);
    assert!(matches!(e, Err(DecodeError::Malformed { .. })), "{e:?}");
}

/// A minimal little-endian TIFF structure holding one EXIF tag: orientation `value`.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = b"II*\0".to_vec();
    exif.extend_from_slice(&8u32.to_le_bytes()); // first IFD at offset 8
    exif.extend_from_slice(&1u16.to_le_bytes()); // one entry
    exif.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    exif.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    exif.extend_from_slice(&1u32.to_le_bytes()); // one value
    exif.extend_from_slice(&value.to_le_bytes());
    exif.extend_from_slice(&[0, 0]);
    exif.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    exif
}

#[test]
fn exif_orientation_is_ignored_by_default_and_applied_on_request() {
    let img = sample(16, 8);
    let mut bytes = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95);
    // 6: the stored image must be turned 90 degrees clockwise to be viewed.
    encoder.set_exif_metadata(exif_orientation(6)).unwrap();
    encoder
        .write_image(img.as_raw(), 16, 8, image::ExtendedColorType::Rgb8)
        .unwrap();

    assert_eq!(Orientation::default(), Orientation::Ignore);
    let stored = decode(&bytes, &Limits::default(), Orientation::default()).unwrap();
    assert_eq!((stored.width, stored.height), (16, 8));
    let viewed = decode(&bytes, &Limits::default(), Orientation::Apply).unwrap();
    assert_eq!((viewed.width, viewed.height), (8, 16));
}
