//! The default model offered to new users, from `assets/models.toml` (compiled in).
//!
//! Invariant: the asset is parsed by a unit test, so a broken file fails the build's tests, not
//! a user's first run; at run time a parse failure only means no download is offered.

use serde::Deserialize;

use crate::engine::protocol::DownloadOffer;

const ASSET: &str = include_str!("../../../assets/models.toml");

#[derive(Debug, Deserialize)]
struct Catalog {
    default: DefaultModel,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DefaultModel {
    pub title: String,
    pub reference: String,
    pub size: u64,
    /// Empty when not pinned: the server's ETag is checked instead.
    #[serde(default)]
    pub sha256: String,
}

pub fn default_model() -> Option<DefaultModel> {
    toml::from_str::<Catalog>(ASSET).ok().map(|c| c.default)
}

/// The offer the first-run modal shows.
pub fn default_offer() -> Option<DownloadOffer> {
    default_model().map(|m| DownloadOffer { title: m.title, reference: m.reference, size: m.size })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_asset_parses_to_a_hugging_face_reference() {
        let model = super::default_model().expect("assets/models.toml parses");
        assert!(model.reference.starts_with("hf:") && model.reference.ends_with(".gguf"));
        assert!(super::super::pull::Source::parse(&model.reference).is_ok());
        assert!(model.size > 100_000_000);
    }
}
