//! Images in prompts: an [`ImageAttachment`] is a PNG, JPEG, GIF or WebP file a user message
//! carries (`Message::images`), recognised by its magic bytes with its size read from the
//! header by hand; the Chat pane's placeholder line for it; what it costs in the token estimate.
//!
//! Invariants: an attachment holds at most [`MAX_IMAGE_BYTES`] of a recognised type with both
//! dimensions known and non-zero ([`ImageAttachment::from_bytes`] is the one constructor that
//! checks); its bytes are stored and sent as base64, never put into any text the model or a
//! summary reads (only [`ImageAttachment::placeholder`]).

use base64::prelude::{BASE64_STANDARD as STANDARD, Engine as _};
use serde::{Deserialize, Serialize};

/// Files above this size are refused (Anthropic's own per-image limit).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// The token cost of the largest image a provider takes (Anthropic scales images down to about
/// 1.15 megapixels, ~1,600 tokens).
pub const MAX_IMAGE_TOKENS: usize = 1_600;

/// File extensions taken for images, whose content is then checked: a `@path` or pasted path
/// with one of these becomes an attachment or a refusal, never "Files in view" text.
pub const IMAGE_EXTENSIONS: [&str; 10] =
    ["png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff", "heic", "svg"];

/// An image a user message carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageAttachment {
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub media_type: String,
    /// The file's bytes (base64 in JSON).
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
    /// How the user named it (a workspace-relative path or the file's name).
    pub name: String,
    pub width: u32,
    pub height: u32,
}

impl ImageAttachment {
    /// `bytes` as an attachment named `name`, or why not (for a notice naming the file).
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(format!("{} is over the 5 MB limit for images", size_label(bytes.len())));
        }
        let Some((media_type, width, height)) = sniff(&bytes) else {
            return Err("not a PNG, JPEG, GIF or WebP image".to_string());
        };
        if width == 0 || height == 0 {
            return Err(format!("its {media_type} header gives no size"));
        }
        Ok(Self { media_type: media_type.to_string(), data: bytes, name: name.to_string(), width, height })
    }

    /// The data as base64, as every wire format carries it.
    pub fn base64(&self) -> String {
        STANDARD.encode(&self.data)
    }

    /// What the Chat pane shows in its place: `[image: shot.png 1280×720, 312 kB]`.
    pub fn placeholder(&self) -> String {
        format!("[image: {} {}×{}, {}]", self.name, self.width, self.height, size_label(self.data.len()))
    }

    /// Estimated input tokens: Anthropic's rule, width × height ÷ 750, within 1 and
    /// [`MAX_IMAGE_TOKENS`] (providers scale large images down).
    pub fn tokens(&self) -> usize {
        ((self.width as usize * self.height as usize) / 750).clamp(1, MAX_IMAGE_TOKENS)
    }
}

/// Whether `path` names an image by its extension.
pub fn is_image_path(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
    })
}

/// `312 kB`, `4.8 MB`, `900 B` (decimal units).
pub fn size_label(bytes: usize) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{} kB", (bytes + 500) / 1_000),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

/// The media type and size of a PNG, JPEG, GIF or WebP, from its first bytes.
pub fn sniff(b: &[u8]) -> Option<(&'static str, u32, u32)> {
    let be16 = |i: usize| Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]) as u32);
    let le16 = |i: usize| Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]) as u32);
    let le24 = |i: usize| Some(u32::from_le_bytes([*b.get(i)?, *b.get(i + 1)?, *b.get(i + 2)?, 0]));
    if b.starts_with(b"\x89PNG\r\n\x1a\n") && b.get(12..16) == Some(b"IHDR") {
        let w = u32::from_be_bytes(b.get(16..20)?.try_into().ok()?);
        let h = u32::from_be_bytes(b.get(20..24)?.try_into().ok()?);
        return Some(("image/png", w, h));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some(("image/gif", le16(6)?, le16(8)?));
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        return match b.get(12..16)? {
            b"VP8 " if b.get(23..26) == Some(&[0x9d, 0x01, 0x2a]) => {
                Some(("image/webp", le16(26)? & 0x3fff, le16(28)? & 0x3fff))
            }
            b"VP8L" if b.get(20) == Some(&0x2f) => {
                let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
                Some(("image/webp", (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => Some(("image/webp", le24(24)? + 1, le24(27)? + 1)),
            _ => None,
        };
    }
    if b.starts_with(&[0xff, 0xd8]) {
        // Walk the marker segments to the first start-of-frame, which holds the size.
        let mut i = 2;
        while i + 3 < b.len() {
            if b[i] != 0xff {
                return None;
            }
            let marker = b[i + 1];
            match marker {
                0xff => i += 1, // fill byte
                0x01 | 0xd0..=0xd9 => i += 2,
                0xc0..=0xcf if !matches!(marker, 0xc4 | 0xc8 | 0xcc) => {
                    return Some(("image/jpeg", be16(i + 7)?, be16(i + 5)?));
                }
                _ => i += 2 + be16(i + 2)? as usize,
            }
        }
    }
    None
}

mod base64_bytes {
    use super::STANDARD;
    use base64::prelude::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(data))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal PNG header of `w`×`h` (enough for `sniff`; not a decodable picture).
    pub fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn each_format_is_known_by_its_magic_bytes_with_its_size() {
        assert_eq!(sniff(&png(1280, 720)), Some(("image/png", 1280, 720)));
        assert_eq!(sniff(b"GIF89a\x40\x01\xf0\x00\x80\0\0"), Some(("image/gif", 320, 240)));
        // JPEG: SOI, an APP0 segment to skip, then SOF0 with height 480, width 640.
        let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x4a, 0x46];
        jpeg.extend([0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03]);
        assert_eq!(sniff(&jpeg), Some(("image/jpeg", 640, 480)));
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend([0x3f, 0x01, 0x00, 0xc7, 0x00, 0x00]); // 320 × 200
        assert_eq!(sniff(&vp8x), Some(("image/webp", 320, 200)));
        let mut lossy = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\x9d\x01\x2a".to_vec();
        lossy.extend([0x20, 0x03, 0x58, 0x02]); // 800 × 600
        assert_eq!(sniff(&lossy), Some(("image/webp", 800, 600)));
        let mut lossless = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        let bits: u32 = (100 - 1) | ((50 - 1) << 14);
        lossless.extend(bits.to_le_bytes());
        assert_eq!(sniff(&lossless), Some(("image/webp", 100, 50)));
        assert_eq!(sniff(b"%PDF-1.7 not an image"), None);
        assert_eq!(sniff(&[0xff, 0xd8, 0x00]), None);
    }

    #[test]
    fn oversized_and_unknown_files_are_refused_with_the_reason() {
        let big = ImageAttachment::from_bytes("big.png", vec![0; MAX_IMAGE_BYTES + 1]).unwrap_err();
        assert!(big.contains("over the 5 MB limit"), "{big}");
        let text = ImageAttachment::from_bytes("fake.png", b"hello".to_vec()).unwrap_err();
        assert_eq!(text, "not a PNG, JPEG, GIF or WebP image");
        assert!(ImageAttachment::from_bytes("zero.png", png(0, 10)).unwrap_err().contains("no size"));
    }

    #[test]
    fn the_placeholder_names_the_file_its_size_and_bytes_and_json_carries_base64() {
        let mut bytes = png(1280, 720);
        bytes.resize(312_000, 0);
        let image = ImageAttachment::from_bytes("screenshot.png", bytes).unwrap();
        assert_eq!(image.placeholder(), "[image: screenshot.png 1280×720, 312 kB]");
        assert_eq!(image.tokens(), 1_228);
        let json = serde_json::to_value(&image).unwrap();
        assert_eq!(json["data"].as_str(), Some(image.base64().as_str()));
        assert_eq!(serde_json::from_value::<ImageAttachment>(json).unwrap(), image);
        assert!(is_image_path("docs/Shot.PNG") && is_image_path("/tmp/a.webp"));
        assert!(!is_image_path("src/main.rs") && !is_image_path(".png") && !is_image_path("png"));
    }
}
