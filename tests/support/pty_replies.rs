//! What the pty's terminal emulator answers and records (`pty.rs`): the replies a real terminal
//! sends to start-up queries, and the OSC sequences, titles, bells and clipboard writes the
//! program produced.

/// vt100 callbacks that collect the replies a real terminal would send back.
#[derive(Default)]
pub struct Replies {
    pub(super) pending: Vec<u8>,
    /// OSC sequences vt100 does not handle itself (notifications: OSC 9, OSC 777), as text
    /// with `;` between the parameters, and how often the bell rang.
    pub oscs: Vec<String>,
    pub bells: usize,
    /// Window titles the program set (OSC 0/2).
    pub titles: Vec<String>,
    /// What the program put on the clipboard (OSC 52): the selector and the base64 data.
    pub clipboard: Vec<(String, String)>,
}

impl vt100::Callbacks for Replies {
    fn unhandled_osc(&mut self, _: &mut vt100::Screen, params: &[&[u8]]) {
        let parts: Vec<String> = params.iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect();
        self.oscs.push(parts.join(";"));
    }

    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.titles.push(String::from_utf8_lossy(title).into_owned());
    }

    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, ty: &[u8], data: &[u8]) {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        self.clipboard.push((text(ty), text(data)));
    }

    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bells += 1;
    }

    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        let first = params.first().and_then(|p| p.first()).copied().unwrap_or(0);
        match (i1, c, first) {
            // DSR: report cursor position (1-based).
            (None, 'n', 6) => {
                let (row, col) = screen.cursor_position();
                self.pending.extend_from_slice(format!("\x1b[{};{}R", row + 1, col + 1).as_bytes());
            }
            // DA1: a VT220-ish terminal with no extras (so no kitty keyboard protocol).
            (None, 'c', 0) => self.pending.extend_from_slice(b"\x1b[?62;22c"),
            _ => {}
        }
    }
}
