//! What tokens cost: the price table built in from `assets/pricing.toml` under the user's own
//! `[learning.prices]`, and the cost in USD of a [`Usage`].
//!
//! Invariants: a price is never guessed — a model no table names has no cost (`None`), which
//! the callers show as unknown rather than as zero. Models that run on this machine cost
//! nothing: Ollama, the built-in `local` provider, and an OpenAI-compatible server whose base URL
//! is a loopback address. Cache tokens without a price of their own are charged at the input
//! price, so a cost is never under-reported.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::engine::protocol::Usage;

const TABLE: &str = include_str!("../../assets/pricing.toml");

/// What a model's tokens cost, in USD per million.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub input: f64,
    pub output: f64,
    /// Prompt-cache writes; the input price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// Prompt-cache reads; the input price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
}

impl ModelPrice {
    pub const FREE: ModelPrice = ModelPrice { input: 0.0, output: 0.0, cache_write: None, cache_read: None };

    /// Input and output prices only (cache tokens at the input price).
    pub fn new(input: f64, output: f64) -> Self {
        Self { input, output, cache_write: None, cache_read: None }
    }

    /// The cost of `usage` in USD.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let per_token = |count: u64, price: f64| count as f64 * price;
        (per_token(usage.input_tokens, self.input)
            + per_token(usage.output_tokens, self.output)
            + per_token(usage.cache_write_tokens, self.cache_write.unwrap_or(self.input))
            + per_token(usage.cache_read_tokens, self.cache_read.unwrap_or(self.input)))
            / 1e6
    }
}

/// Provider name → model id prefix → price, from `assets/pricing.toml`.
static BUILT_IN: LazyLock<BTreeMap<String, BTreeMap<String, ModelPrice>>> = LazyLock::new(|| {
    toml::from_str(TABLE).unwrap_or_else(|e| {
        tracing::error!("assets/pricing.toml does not parse: {e}");
        BTreeMap::new()
    })
});

/// The built-in price of `provider`'s `model`: the longest key `model` starts with.
pub fn built_in(provider: &str, model: &str) -> Option<ModelPrice> {
    BUILT_IN
        .get(provider)?
        .iter()
        .filter(|(prefix, _)| model.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, price)| *price)
}

/// Where prices are looked up: the user's first, then the built-in table.
#[derive(Debug, Clone, Copy)]
pub struct Prices<'a> {
    user: &'a BTreeMap<String, ModelPrice>,
    /// The `openai` provider points at this machine (llama.cpp, vLLM, LM Studio…).
    openai_is_local: bool,
}

impl<'a> Prices<'a> {
    pub fn new(user: &'a BTreeMap<String, ModelPrice>, openai_is_local: bool) -> Self {
        Self { user, openai_is_local }
    }

    /// From the configuration: `[learning.prices]` and where `[openai] base_url` points.
    pub fn of(config: &'a crate::engine::config::Config) -> Self {
        Self::new(&config.learning.prices, is_loopback_url(&config.openai.base_url))
    }

    /// The price of `provider`'s `model`, or `None` when no table names it.
    pub fn price(&self, provider: &str, model: &str) -> Option<ModelPrice> {
        if let Some(price) = self.user.get(&format!("{provider}/{model}")).or_else(|| self.user.get(model)) {
            return Some(*price);
        }
        let local = matches!(provider, "ollama" | "local") || (provider == "openai" && self.openai_is_local);
        if local {
            return Some(ModelPrice::FREE);
        }
        built_in(provider, model)
    }

    /// The cost of `usage` on `provider`'s `model`, when it has a price.
    pub fn cost(&self, provider: &str, model: &str, usage: &Usage) -> Option<f64> {
        self.price(provider, model).map(|price| price.cost(usage))
    }
}

/// Whether `url`'s host is this machine (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else { return false };
    let Some(host) = parsed.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, write: u64, read: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_write_tokens: write,
            cache_read_tokens: read,
        }
    }

    #[test]
    fn the_built_in_table_parses_and_prices_dated_model_ids_by_their_longest_prefix() {
        assert!(BUILT_IN.contains_key("anthropic") && BUILT_IN.contains_key("openai"), "{TABLE}");
        let sonnet = built_in("anthropic", "claude-sonnet-4-5-20250929").expect("priced");
        assert_eq!((sonnet.input, sonnet.output), (3.0, 15.0));
        let mini = built_in("openai", "gpt-4o-mini-2024-07-18").expect("priced");
        assert_eq!(mini.input, 0.15, "gpt-4o-mini, not gpt-4o");
        assert_eq!(built_in("anthropic", "some-future-model"), None);
    }

    #[test]
    fn cache_tokens_are_charged_at_their_own_price_or_the_input_price() {
        let sonnet = built_in("anthropic", "claude-sonnet-4-5").unwrap();
        // 1 M of each: 3 + 15 + 3.75 + 0.3.
        let cost = sonnet.cost(&usage(1_000_000, 1_000_000, 1_000_000, 1_000_000));
        assert!((cost - 22.05).abs() < 1e-9, "{cost}");
        let plain = ModelPrice::new(2.0, 8.0);
        assert!((plain.cost(&usage(0, 0, 500_000, 500_000)) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn the_user_s_prices_win_and_local_models_are_free() {
        let mut user = BTreeMap::new();
        user.insert("anthropic/claude-sonnet-4-5".to_string(), ModelPrice::new(1.0, 1.0));
        user.insert("house-model".to_string(), ModelPrice::new(9.0, 9.0));
        let prices = Prices::new(&user, false);
        assert_eq!(prices.price("anthropic", "claude-sonnet-4-5"), Some(ModelPrice::new(1.0, 1.0)));
        assert_eq!(prices.price("openai", "house-model"), Some(ModelPrice::new(9.0, 9.0)));
        assert_eq!(prices.price("ollama", "qwen2.5-coder"), Some(ModelPrice::FREE));
        assert_eq!(prices.price("local", "gemma.gguf"), Some(ModelPrice::FREE));
        assert_eq!(prices.price("openai", "gemma"), None, "a remote unknown model has no price");
        assert_eq!(Prices::new(&user, true).price("openai", "gemma"), Some(ModelPrice::FREE));
    }

    #[test]
    fn loopback_urls_are_recognised() {
        assert!(is_loopback_url("http://127.0.0.1:8080/v1"));
        assert!(is_loopback_url("http://localhost:11434"));
        assert!(is_loopback_url("http://[::1]:8000"));
        assert!(!is_loopback_url("https://api.openai.com/v1"));
        assert!(!is_loopback_url("not a url"));
    }
}
