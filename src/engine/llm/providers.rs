//! Building providers from configuration, and the start-up check that tells a new user exactly
//! what to set when no provider can answer.

use std::sync::Arc;
use std::time::Duration;

use crate::engine::config::{Config, Secrets};
use crate::engine::llm::anthropic::AnthropicProvider;
use crate::engine::llm::local::LocalProvider;
use crate::engine::llm::ollama::OllamaProvider;
use crate::engine::llm::oneshot::{Candidate, FallbackConsent, OneShot};
use crate::engine::llm::openai::OpenAiProvider;
use crate::engine::llm::router::RetryPolicy;
use crate::engine::llm::{LlmError, Provider, ProviderKind};

pub fn build(
    kind: ProviderKind,
    config: &Config,
    secrets: &Secrets,
    client: &reqwest::Client,
) -> Arc<dyn Provider> {
    let idle = Duration::from_secs(config.llm.idle_timeout_secs.max(1));
    let model = config.model_of(kind);
    match kind {
        ProviderKind::Anthropic => Arc::new(
            AnthropicProvider::new(
                client.clone(),
                &config.anthropic.base_url,
                secrets.anthropic_api_key.clone(),
                model,
                idle,
            )
            .with_prompt_cache(config.anthropic.prompt_cache),
        ),
        ProviderKind::Ollama => Arc::new(
            OllamaProvider::new(client.clone(), &config.ollama.host, model, config.ollama.num_ctx, idle)
                .with_max_ctx(config.ollama.max_ctx)
                .with_keep_alive(config.ollama.keep_alive.clone()),
        ),
        ProviderKind::OpenAi => Arc::new(OpenAiProvider::new(
            client.clone(),
            &config.openai.base_url,
            secrets.openai_api_key.clone(),
            model,
            idle,
        )),
        ProviderKind::Local => Arc::new(LocalProvider::new(&config.local)),
    }
}

/// The providers a one-shot request asks: the primary, then the fallback when it is another.
/// With `llm.fallback_confirm` the fallback is refused until the caller says how to ask
/// ([`OneShot::consent`]: the engine's dialog, the headless command's terminal).
pub fn one_shot(config: &Config, secrets: &Secrets, client: &reqwest::Client) -> OneShot {
    let mut kinds = vec![config.llm.primary];
    let fallback = config.llm.fallback.provider().filter(|f| *f != config.llm.primary);
    kinds.extend(fallback);
    let candidates = kinds
        .into_iter()
        .map(|kind| Candidate {
            provider: build(kind, config, secrets, client),
            max_tokens: config.max_tokens(kind),
        })
        .collect();
    OneShot {
        candidates,
        temperature: config.llm.temperature,
        retry: retry_policy(config),
        no_fallback: fallback.is_none(),
        consent: if config.llm.fallback_confirm {
            FallbackConsent::Refused(
                "llm.fallback_confirm is set and nobody can be asked here, so the fallback was not used"
                    .to_string(),
            )
        } else {
            FallbackConsent::Given
        },
    }
}

pub fn retry_policy(config: &Config) -> RetryPolicy {
    RetryPolicy {
        max_retries: config.llm.max_retries,
        base_delay: Duration::from_millis(config.llm.retry_base_ms),
        max_delay: Duration::from_millis(config.llm.retry_max_ms.max(config.llm.retry_base_ms)),
        ..RetryPolicy::default()
    }
}

/// The message shown when no provider could answer: what failed, then what to set for each.
pub fn setup_help(errors: &[LlmError]) -> String {
    let mut text = String::from("No model provider could answer.\n");
    for error in errors {
        text.push_str(&format!("- {error}\n"));
    }
    text.push_str("To fix it, do one of:\n");
    text.push_str(provider_env_help());
    text.push_str(
        "\n- Built-in (offline): `kv1nt model pull default` (or set `model` under [local] in config.toml to a \
         GGUF file), then choose it with `--provider local` or `/provider local`",
    );
    text
}

/// What to set for each provider that runs elsewhere (the first-run modal shows it too).
pub fn provider_env_help() -> &'static str {
    "- Claude: set ANTHROPIC_API_KEY (ANTHROPIC_BASE_URL for a proxy or compatible server)\n\
     - Ollama: run `ollama serve` and pull a model, or set OLLAMA_HOST to where it runs\n\
     - OpenAI-compatible (llama.cpp, vLLM, LM Studio): set OPENAI_BASE_URL (and OPENAI_API_KEY if needed), \
     then choose it with `--provider openai` or `/provider openai`"
}
