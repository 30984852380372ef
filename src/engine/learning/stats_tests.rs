use time::macros::datetime;

use super::*;
use crate::engine::pricing::ModelPrice;

/// Only the built-in table: `m1` of provider `openai` has no price.
fn no_prices() -> Prices<'static> {
    static NONE: std::collections::BTreeMap<String, ModelPrice> = std::collections::BTreeMap::new();
    Prices::new(&NONE, false)
}

fn proposal(id: i64, turn: u64, decision: &str) -> ProposalRecord {
    ProposalRecord {
        id,
        session_id: "s1".into(),
        request_id: id as u64,
        turn,
        kind: "edit".into(),
        provider: "openai".into(),
        model: "m1".into(),
        intent: None,
        language: Some("rust".into()),
        risk: "low".into(),
        decision: decision.into(),
        change_id: None,
        undone: false,
        undone_at: None,
        template: None,
        prompt_variant: None,
        syntax_retries: None,
        parsed: None,
        check_rounds: None,
        checks_passed: None,
        tests_before: None,
        tests_after: None,
        modification: None,
        time: "2026-12-01T10:00:00.000000Z".into(),
    }
}

fn all() -> StatsFilter {
    StatsFilter::default()
}

fn model(name: &str) -> StatsFilter {
    StatsFilter { model: Some(name.into()), ..StatsFilter::default() }
}

fn usage(turn: u64, tokens: u64) -> TurnUsage {
    TurnUsage {
        session_id: "s1".into(),
        turn,
        provider: "openai".into(),
        model: "m1".into(),
        input_tokens: tokens,
        output_tokens: 0,
        cache_write_tokens: 0,
        cache_read_tokens: 0,
        time: "2026-12-01T10:00:00.000000Z".into(),
    }
}

#[test]
fn rates_divide_by_what_they_are_about() {
    let mut ps = vec![
        proposal(1, 1, "approved-once"),
        proposal(2, 1, "edited-and-approved"),
        proposal(3, 2, "denied"),
        proposal(4, 2, "policy-denied"),
        proposal(5, 3, "auto-approved"),
    ];
    ps[0].change_id = Some(10);
    ps[0].undone = true;
    ps[1].change_id = Some(11);
    ps[0].parsed = Some(true);
    ps[0].syntax_retries = Some(0);
    ps[1].parsed = Some(true);
    ps[1].syntax_retries = Some(2);
    ps[0].check_rounds = Some(1);
    ps[0].checks_passed = Some(true);
    ps[1].check_rounds = Some(1);
    ps[1].checks_passed = Some(true);
    ps[4].check_rounds = Some(0);
    ps[4].checks_passed = Some(true);
    let r = compute(&ps, &[usage(1, 1000), usage(3, 300)], &all(), &no_prices());
    let t = &r.total;
    assert_eq!((t.proposals, t.accepted, t.modified, t.denied, t.undone), (5, 3, 1, 1, 1));
    assert_eq!(t.acceptance, Some(0.75), "policy denials are not the user's");
    assert_eq!(t.modified_rate, Some(1.0 / 3.0));
    assert_eq!(t.undo_rate, Some(0.5), "of the accepted that wrote a change");
    assert_eq!(t.syntax_first_pass, Some(0.5));
    assert_eq!(t.checks_first_pass, Some(0.5), "turn 1 needed a round, turn 3 none");
    assert_eq!(t.mean_fix_rounds, Some(0.5));
    assert_eq!(t.tokens_per_accepted, Some(1300.0 / 3.0));
    assert_eq!(r.by_language.len(), 1);
    assert_eq!(r.by_intent[0].key, "free text");
}

#[test]
fn nothing_recorded_is_none_not_zero() {
    let r = compute(&[proposal(1, 1, "policy-denied")], &[], &all(), &no_prices());
    assert_eq!(r.total.acceptance, None);
    assert_eq!(r.total.syntax_first_pass, None);
    assert_eq!(r.total.tokens_per_accepted, None);
    let empty = compute(&[], &[], &all(), &no_prices());
    assert!(empty.by_model.is_empty() && empty.daily.is_empty());
}

#[test]
fn model_filter_matches_name_or_provider_slash_name() {
    let mut other = proposal(2, 1, "denied");
    other.model = "m2".into();
    let ps = [proposal(1, 1, "approved-once"), other];
    assert_eq!(compute(&ps, &[], &model("m1"), &no_prices()).total.proposals, 1);
    assert_eq!(compute(&ps, &[], &model("openai/m2"), &no_prices()).total.denied, 1);
    assert_eq!(compute(&ps, &[], &all(), &no_prices()).by_model.len(), 2);
}

#[test]
fn since_spans_and_dates() {
    let now = datetime!(2026-12-05 12:00:00 UTC);
    assert_eq!(parse_since("7d", now).unwrap(), "2026-11-28T12:00:00.000000Z");
    assert_eq!(parse_since("36h", now).unwrap(), "2026-12-04T00:00:00.000000Z");
    assert_eq!(parse_since("2026-12-01", now).unwrap(), "2026-12-01T00:00:00.000000Z");
    for bad in ["", "7", "7y", "d", "yesterday", "99999999999999999999d"] {
        let e = parse_since(bad, now).unwrap_err();
        assert!(e.contains("is not a span"), "{bad}: {e}");
    }
}

#[test]
fn rust_fixes_per_model_is_one_filter_away() {
    let fix = |id: i64, model: &str, language: &str, decision: &str| {
        let mut p = proposal(id, id as u64, decision);
        p.intent = Some("fix".into());
        p.model = model.into();
        p.language = Some(language.into());
        p
    };
    let ps = [
        fix(1, "m1", "rust", "approved-once"),
        fix(2, "m1", "rust", "denied"),
        fix(3, "m2", "rust", "approved-once"),
        fix(4, "m2", "python", "denied"),
        proposal(5, 5, "denied"),
    ];
    let filter = StatsFilter { intent: Some("fix".into()), language: Some("rust".into()), ..all() };
    let r = compute(&ps, &[], &filter, &no_prices());
    assert_eq!(r.total.proposals, 3);
    let by_model: Vec<(&str, Option<f64>)> =
        r.by_model.iter().map(|row| (row.key.as_str(), row.figures.acceptance)).collect();
    assert_eq!(by_model, [("openai/m1", Some(0.5)), ("openai/m2", Some(1.0))]);
    let free = StatsFilter { intent: Some("free text".into()), ..all() };
    assert_eq!(compute(&ps, &[], &free, &no_prices()).total.proposals, 1);
}

#[test]
fn acceptance_is_compared_between_prompt_variants_per_model() {
    let variant = |id: i64, v: Option<&str>, decision: &str| {
        let mut p = proposal(id, id as u64, decision);
        p.prompt_variant = v.map(str::to_string);
        p
    };
    let ps = [
        variant(1, Some("aaaa0000"), "approved-once"),
        variant(2, Some("aaaa0000"), "denied"),
        variant(3, Some("bbbb1111"), "approved-once"),
        variant(4, None, "approved-once"),
    ];
    let rows: Vec<(String, Option<f64>)> = compute(&ps, &[], &all(), &no_prices())
        .by_prompt
        .into_iter()
        .map(|r| (r.key, r.figures.acceptance))
        .collect();
    assert_eq!(
        rows,
        [("aaaa0000 · openai/m1".to_string(), Some(0.5)), ("bbbb1111 · openai/m1".to_string(), Some(1.0))]
    );
}

#[test]
fn cost_counts_priced_turns_only_and_ollama_is_free() {
    let ps =
        [proposal(1, 1, "approved-once"), proposal(2, 1, "approved-once"), proposal(3, 2, "approved-once")];
    let mut local = usage(2, 5000);
    local.provider = "ollama".into();
    let mut unpriced = usage(3, 7000);
    unpriced.model = "m9".into();
    let turns = [usage(1, 2_000_000), local, unpriced];
    let unpriced_only = compute(&ps[..2], &turns, &all(), &no_prices()).total;
    assert_eq!(unpriced_only.cost_per_accepted, None, "no price for m1");
    let with_local = compute(&ps, &turns, &all(), &no_prices()).total;
    assert_eq!(with_local.cost_per_accepted, Some(0.0), "the local turn is free");

    let mut user = std::collections::BTreeMap::new();
    user.insert("openai/m1".into(), ModelPrice::new(3.0, 15.0));
    let settings = Prices::new(&user, false);
    let t = compute(&ps, &turns, &all(), &settings).total;
    // Turn 1: 2 M input tokens at $3/M = $6, shared by two; turn 2 is local (free) and
    // its m1 proposal costs nothing more; turn 3's m9 has no price and is left out.
    let mut only_priced = ps.to_vec();
    only_priced.push(proposal(4, 3, "approved-once"));
    let t3 = compute(&only_priced, &turns, &all(), &settings).total;
    assert_eq!(t.cost_per_accepted, Some((3.0 + 3.0 + 0.0) / 3.0));
    assert_eq!(t3.cost_per_accepted, t.cost_per_accepted, "an unpriced turn changes nothing");
}

#[test]
fn stats_words_narrow_by_span_intent_and_language_in_any_order() {
    let now = datetime!(2026-12-05 12:00 UTC);
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let f = parse_query(&words(&["Rust", "7d", "fix"]), now).unwrap();
    assert_eq!((f.intent.as_deref(), f.language.as_deref()), (Some("fix"), Some("rust")));
    assert!(f.since.unwrap().starts_with("2026-11-28T12:00"));
    assert_eq!(parse_query(&words(&["free-text"]), now).unwrap().intent.as_deref(), Some("free text"));
    assert!(parse_query(&words(&["fix", "review"]), now).unwrap_err().contains("one intent"));
    assert!(parse_query(&words(&["soon"]), now).unwrap_err().contains("`soon` is not a span"));
    assert_eq!(parse_query(&[], now).unwrap(), StatsFilter::default());
}
