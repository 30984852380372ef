//! Colour themes: every UI element's [`Style`], loaded from TOML.
//!
//! Owns [`Theme`] (one named `Style` per UI element plus the syntect theme name used for code),
//! the two built-in themes (`themes/dark.toml`, `themes/light.toml`, embedded with
//! `include_str!`), user themes (`<user_dir>/<name>.toml`, which shadow built-ins), and the
//! terminal colour-capability adaptation ([`ColorMode`]).
//!
//! Invariants:
//! - After [`Theme::with_color_mode`], no style holds a colour the mode cannot show: `NoColor`
//!   themes have no fg/bg at all (modifiers are kept) and `Ansi256` themes hold no `Rgb`.
//! - Elements missing from a theme file are `Style::default()`; unknown element names, unknown
//!   attributes and unparsable colours are errors naming the offending key and value.
//! - Nothing here panics, including `Theme::default()` (falls back to an unstyled theme).

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

const BUILTINS: &[(&str, &str)] =
    &[("dark", include_str!("../../themes/dark.toml")), ("light", include_str!("../../themes/light.toml"))];

/// What colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ColorMode {
    /// 24-bit colour: styles are used as written.
    #[default]
    TrueColor,
    /// xterm 256 colours: every `Rgb` is mapped to the nearest palette index.
    Ansi256,
    /// No colour at all (`NO_COLOR`): only modifiers survive.
    NoColor,
}

impl ColorMode {
    /// Decides the mode from the values of `NO_COLOR` and `COLORTERM`.
    pub fn detect_from(no_color: Option<&str>, colorterm: Option<&str>) -> ColorMode {
        if no_color.is_some_and(|v| !v.is_empty()) {
            return ColorMode::NoColor;
        }
        match colorterm.map(|v| v.trim().to_ascii_lowercase()) {
            Some(v) if v == "truecolor" || v == "24bit" => ColorMode::TrueColor,
            _ => ColorMode::Ansi256,
        }
    }

    /// [`ColorMode::detect_from`] over the process environment.
    pub fn detect() -> ColorMode {
        let no_color = std::env::var("NO_COLOR").ok();
        let colorterm = std::env::var("COLORTERM").ok();
        ColorMode::detect_from(no_color.as_deref(), colorterm.as_deref())
    }
}

/// Errors from loading or parsing a theme.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme '{name}' (available: {})", available.join(", "))]
    Unknown { name: String, available: Vec<String> },
    #[error("theme '{theme}': bad colour for {key}: '{value}'")]
    BadColor { theme: String, key: String, value: String },
    #[error("theme '{theme}': unknown element '{key}' in [colors]")]
    UnknownElement { theme: String, key: String },
    #[error("theme '{theme}': {source}")]
    Parse {
        theme: String,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("reading theme {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

macro_rules! theme_struct {
    ($($(#[$doc:meta])* $field:ident),* $(,)?) => {
        /// Styles for every UI element. Emphasis/strong/strikethrough are plain modifiers.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            /// Theme name (cache key for highlighted text).
            pub name: String,
            /// Name of the syntect theme used for code (`ThemeSet::load_defaults` names).
            pub syntect_theme: String,
            /// The colour mode the styles were converted for.
            pub color_mode: ColorMode,
            $($(#[$doc])* pub $field: Style,)*
        }

        /// Names of all theme elements, as written in the `[colors]` table.
        pub const ELEMENTS: &[&str] = &[$(stringify!($field)),*];

        impl Theme {
            fn unstyled(name: &str, syntect_theme: &str) -> Theme {
                Theme {
                    name: name.to_string(),
                    syntect_theme: syntect_theme.to_string(),
                    color_mode: ColorMode::TrueColor,
                    $($field: Style::default(),)*
                }
            }

            fn slot(&mut self, key: &str) -> Option<&mut Style> {
                match key {
                    $(stringify!($field) => Some(&mut self.$field),)*
                    _ => None,
                }
            }

            fn map_styles(&mut self, f: impl Fn(Style) -> Style) {
                $(self.$field = f(self.$field);)*
            }
        }
    };
}

theme_struct!(
    /// Default text and pane background.
    base,
    border,
    border_focused,
    title,
    title_focused,
    /// Secondary text: hints, link urls, quotes.
    dim,
    accent,
    error,
    warning,
    user_label,
    assistant_label,
    inline_code,
    /// Patched under fenced code in chat (may be empty).
    code_block_bg,
    heading,
    line_number,
    line_number_current,
    diff_add,
    diff_del,
    diff_add_emph,
    diff_del_emph,
    diff_hunk_header,
    selection,
    status_bar,
    status_busy,
    modal_border,
    modal_title,
    popup,
    popup_selected,
    tab_active,
    tab_inactive,
);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    name: Option<String>,
    syntect_theme: Option<String>,
    #[serde(default)]
    colors: BTreeMap<String, RawStyle>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    dim: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin("dark").unwrap_or_else(|_| Theme::unstyled("dark", "base16-ocean.dark"))
    }
}

impl Theme {
    /// Names of the built-in themes.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTINS.iter().map(|(n, _)| *n).collect()
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
        match BUILTINS.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Theme::from_toml_str(n, text),
            None => Err(ThemeError::Unknown { name: name.to_string(), available: available_names(None) }),
        }
    }

    /// Loads `user_dir/NAME.toml` if it exists, else the built-in `NAME`.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme, ThemeError> {
        let safe = !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.');
        if let (Some(dir), true) = (user_dir, safe) {
            let path = dir.join(format!("{name}.toml"));
            if path.is_file() {
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| ThemeError::Io { path: path.display().to_string(), source })?;
                return Theme::from_toml_str(name, &text);
            }
        }
        if BUILTINS.iter().any(|(n, _)| *n == name) {
            return Theme::builtin(name);
        }
        Err(ThemeError::Unknown { name: name.to_string(), available: available_names(user_dir) })
    }

    /// Parses a theme file. `fallback_name` is used when the file has no `name` key.
    pub fn from_toml_str(fallback_name: &str, text: &str) -> Result<Theme, ThemeError> {
        let raw: RawTheme = toml::from_str(text)
            .map_err(|e| ThemeError::Parse { theme: fallback_name.to_string(), source: Box::new(e) })?;
        let name = raw.name.unwrap_or_else(|| fallback_name.to_string());
        let syntect = raw.syntect_theme.unwrap_or_else(|| "base16-ocean.dark".to_string());
        let mut theme = Theme::unstyled(&name, &syntect);
        for (key, rs) in &raw.colors {
            let style = raw_to_style(&name, key, rs)?;
            match theme.slot(key) {
                Some(slot) => *slot = style,
                None => {
                    return Err(ThemeError::UnknownElement { theme: name, key: key.clone() });
                }
            }
        }
        Ok(theme)
    }

    /// Converts every style for `mode` (see the module invariants).
    pub fn with_color_mode(mut self, mode: ColorMode) -> Theme {
        self.color_mode = mode;
        self.map_styles(|s| adapt_style(mode, s));
        self
    }

    /// Converts one colour (e.g. from syntect) for this theme's colour mode.
    /// `NoColor` yields `Color::Reset`; callers that can should drop the colour instead.
    pub fn adapt_color(&self, color: Color) -> Color {
        adapt_color(self.color_mode, color).unwrap_or(Color::Reset)
    }

    /// Converts a whole style for this theme's colour mode.
    pub fn adapt_style(&self, style: Style) -> Style {
        adapt_style(self.color_mode, style)
    }
}

fn available_names(user_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = BUILTINS.iter().map(|(n, _)| n.to_string()).collect();
    if let Some(entries) = user_dir.and_then(|d| std::fs::read_dir(d).ok()) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            {
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

fn raw_to_style(theme: &str, key: &str, raw: &RawStyle) -> Result<Style, ThemeError> {
    let color = |attr: &str, v: &Option<String>| -> Result<Option<Color>, ThemeError> {
        match v {
            None => Ok(None),
            Some(v) => v.trim().parse::<Color>().map(Some).map_err(|_| ThemeError::BadColor {
                theme: theme.to_string(),
                key: format!("{key}.{attr}"),
                value: v.clone(),
            }),
        }
    };
    let mut style = Style { fg: color("fg", &raw.fg)?, bg: color("bg", &raw.bg)?, ..Style::default() };
    for (on, m) in [
        (raw.bold, Modifier::BOLD),
        (raw.italic, Modifier::ITALIC),
        (raw.underline, Modifier::UNDERLINED),
        (raw.reversed, Modifier::REVERSED),
        (raw.dim, Modifier::DIM),
    ] {
        if on {
            style = style.add_modifier(m);
        }
    }
    Ok(style)
}

fn adapt_style(mode: ColorMode, s: Style) -> Style {
    Style { fg: s.fg.and_then(|c| adapt_color(mode, c)), bg: s.bg.and_then(|c| adapt_color(mode, c)), ..s }
}

/// `None` means "no colour" (only in `NoColor` mode).
fn adapt_color(mode: ColorMode, c: Color) -> Option<Color> {
    match (mode, c) {
        (ColorMode::NoColor, _) => None,
        (ColorMode::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(rgb_to_ansi256(r, g, b))),
        _ => Some(c),
    }
}

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// Nearest xterm-256 index (6x6x6 cube 16..=231 or grey ramp 232..=255) to an RGB colour.
pub fn rgb_to_ansi256(r: u8, g: u8, b: u8) -> u8 {
    let nearest_level =
        |v: u8| -> usize { (0..CUBE.len()).min_by_key(|&i| (CUBE[i] as i32 - v as i32).abs()).unwrap_or(0) };
    let dist = |(r2, g2, b2): (u8, u8, u8)| -> i32 {
        let d = |a: u8, b: u8| (a as i32 - b as i32).pow(2);
        d(r, r2) + d(g, g2) + d(b, b2)
    };
    let (ri, gi, bi) = (nearest_level(r), nearest_level(g), nearest_level(b));
    let cube_idx = 16 + 36 * ri + 6 * gi + bi;
    let cube_dist = dist((CUBE[ri], CUBE[gi], CUBE[bi]));
    let avg = (r as i32 + g as i32 + b as i32) / 3;
    let grey_i = ((avg - 8).max(0) / 10).min(23);
    let grey_v = (8 + grey_i * 10) as u8;
    let grey_dist = dist((grey_v, grey_v, grey_v));
    if grey_dist < cube_dist { (232 + grey_i) as u8 } else { cube_idx as u8 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_name_syntect_themes() {
        let dark = Theme::builtin("dark").unwrap();
        assert_eq!(dark.syntect_theme, "base16-ocean.dark");
        assert_eq!(dark.name, "dark");
        assert_ne!(dark.heading, Style::default());
        let light = Theme::builtin("light").unwrap();
        assert_eq!(light.syntect_theme, "InspiredGitHub");
        // Every element is set in both built-ins (code_block_bg may be empty in dark).
        for text in [BUILTINS[0].1, BUILTINS[1].1] {
            let raw: RawTheme = toml::from_str(text).unwrap();
            for e in ELEMENTS {
                assert!(raw.colors.contains_key(*e), "missing {e}");
            }
        }
        assert_eq!(Theme::default(), dark);
    }

    #[test]
    fn colour_forms() {
        let t = Theme::from_toml_str(
            "t",
            r##"[colors]
                base = { fg = "#102030", bg = "red", bold = true, italic = true }
                dim = { fg = "245", underline = true, reversed = true }"##,
        )
        .unwrap();
        assert_eq!(t.base.fg, Some(Color::Rgb(0x10, 0x20, 0x30)));
        assert_eq!(t.base.bg, Some(Color::Red));
        assert!(t.base.add_modifier.contains(Modifier::BOLD | Modifier::ITALIC));
        assert_eq!(t.dim.fg, Some(Color::Indexed(245)));
        assert!(t.dim.add_modifier.contains(Modifier::UNDERLINED | Modifier::REVERSED));
        assert_eq!(t.name, "t");
        assert_eq!(t.border, Style::default());
    }

    #[test]
    fn errors_name_key_and_value() {
        let e = Theme::from_toml_str("t", "[colors]\nbase = { fg = \"#12345\" }").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("base.fg") && msg.contains("#12345"), "{msg}");
        let e = Theme::from_toml_str("t", "[colors]\nbogus = {}").unwrap_err();
        assert!(e.to_string().contains("bogus"));
        let e = Theme::from_toml_str("t", "[colors]\nbase = { fgg = \"red\" }").unwrap_err();
        assert!(e.to_string().contains("fgg"), "{e}");
        assert!(Theme::from_toml_str("t", "not toml [").is_err());
    }

    #[test]
    fn load_prefers_user_dir_and_lists_available() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dark.toml"),
            "name = \"dark\"\nsyntect_theme = \"InspiredGitHub\"\n[colors]\nbase = { fg = \"blue\" }",
        )
        .unwrap();
        std::fs::write(dir.path().join("solar.toml"), "[colors]").unwrap();
        let t = Theme::load("dark", Some(dir.path())).unwrap();
        assert_eq!(t.base.fg, Some(Color::Blue));
        assert_eq!(Theme::load("solar", Some(dir.path())).unwrap().name, "solar");
        assert_eq!(Theme::load("light", Some(dir.path())).unwrap().name, "light");
        let msg = Theme::load("nope", Some(dir.path())).unwrap_err().to_string();
        assert!(msg.contains("nope") && msg.contains("dark, light, solar"), "{msg}");
        assert!(Theme::load("../etc/passwd", Some(dir.path())).is_err());
        assert!(Theme::load("", None).is_err());
    }

    #[test]
    fn detect_colour_mode() {
        use ColorMode::*;
        assert_eq!(ColorMode::detect_from(Some("1"), Some("truecolor")), NoColor);
        assert_eq!(ColorMode::detect_from(Some(""), Some("truecolor")), TrueColor);
        assert_eq!(ColorMode::detect_from(None, Some("24bit")), TrueColor);
        assert_eq!(ColorMode::detect_from(None, Some("yes")), Ansi256);
        assert_eq!(ColorMode::detect_from(None, None), Ansi256);
    }

    #[test]
    fn colour_mode_conversion() {
        let dark = Theme::builtin("dark").unwrap();
        let nc = dark.clone().with_color_mode(ColorMode::NoColor);
        assert_eq!(nc.base.fg, None);
        assert_eq!(nc.popup.bg, None);
        assert!(nc.heading.add_modifier.contains(Modifier::BOLD));
        assert_eq!(nc.adapt_color(Color::Rgb(1, 2, 3)), Color::Reset);
        let a = dark.with_color_mode(ColorMode::Ansi256);
        assert!(matches!(a.base.fg, Some(Color::Indexed(_))));
        assert_eq!(a.adapt_color(Color::Rgb(255, 0, 0)), Color::Indexed(196));
        assert_eq!(a.adapt_color(Color::Red), Color::Red);
    }

    #[test]
    fn ansi256_nearest() {
        assert_eq!(rgb_to_ansi256(0, 0, 0), 16);
        assert_eq!(rgb_to_ansi256(255, 255, 255), 231);
        assert_eq!(rgb_to_ansi256(0, 0, 255), 21);
        assert_eq!(rgb_to_ansi256(128, 128, 128), 244);
        assert_eq!(rgb_to_ansi256(95, 135, 175), 67);
        assert_eq!(rgb_to_ansi256(8, 8, 8), 232);
    }
}
