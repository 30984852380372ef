//! Per provider and model, how the input tokens it reported compare with kv1nt's raw estimate
//! (`token_calibration`; the average itself is `llm::context::Calibration::observe`). Kept in
//! the session database rather than a file of its own: every kv1nt process already has it open,
//! with WAL and a busy timeout for processes writing at once, and one row is replaced whole.
//!
//! Invariant: a stored ratio is finite and within `Calibration::BOUNDS`; anything else read back
//! is treated as no calibration.

use rusqlite::OptionalExtension;

use super::Result;
use super::sessions::{Store, now_rfc3339};
use crate::engine::llm::context::Calibration;

impl Store {
    /// The calibration of `provider`/`model`, if a reply of it was ever counted.
    pub fn calibration(&self, provider: &str, model: &str) -> Result<Option<Calibration>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT ratio, samples FROM token_calibration WHERE provider = ?1 AND model = ?2",
            )?
            .query_row((provider, model), |r| Ok((r.get::<_, f64>(0)?, r.get::<_, i64>(1)?)))
            .optional()?;
        let (low, high) = Calibration::BOUNDS;
        Ok(row.filter(|(ratio, _)| ratio.is_finite() && (low..=high).contains(ratio)).map(
            |(ratio, samples)| Calibration {
                ratio,
                samples: u32::try_from(samples.max(0)).unwrap_or(u32::MAX),
            },
        ))
    }

    /// Stores `calibration` as `provider`/`model`'s (one out of bounds is not stored).
    pub fn set_calibration(&self, provider: &str, model: &str, calibration: Calibration) -> Result<()> {
        let (low, high) = Calibration::BOUNDS;
        if !(calibration.ratio.is_finite() && (low..=high).contains(&calibration.ratio)) {
            return Ok(());
        }
        self.conn
            .prepare_cached(
                "INSERT INTO token_calibration (provider, model, ratio, samples, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (provider, model) DO UPDATE
                 SET ratio = excluded.ratio, samples = excluded.samples, updated_at = excluded.updated_at",
            )?
            .execute((provider, model, calibration.ratio, i64::from(calibration.samples), now_rfc3339()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calibration_is_kept_per_provider_and_model() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.calibration("openai", "m").unwrap(), None);
        let c = Calibration::RAW.observe(2_000, 1_000);
        store.set_calibration("openai", "m", c).unwrap();
        store.set_calibration("openai", "m", c.observe(1_000, 1_000)).unwrap();
        let back = store.calibration("openai", "m").unwrap().unwrap();
        assert_eq!((back.ratio, back.samples), (1.5, 2));
        assert_eq!(store.calibration("openai", "other").unwrap(), None);
        assert_eq!(store.calibration("ollama", "m").unwrap(), None);
        store.set_calibration("anthropic", "x", Calibration { ratio: f64::NAN, samples: 1 }).unwrap();
        assert_eq!(store.calibration("anthropic", "x").unwrap(), None, "nonsense is not stored");
        store.conn.execute("INSERT INTO token_calibration VALUES ('ollama', 'y', 99.0, 1, '')", []).unwrap();
        assert_eq!(store.calibration("ollama", "y").unwrap(), None, "nonsense read back is no calibration");
    }
}
