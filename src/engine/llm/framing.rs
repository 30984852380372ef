//! Byte-stream framing shared by the providers: newline-delimited lines and Server-Sent Events.
//!
//! Invariants: bytes are buffered until a full line arrives, so an event (or a UTF-8 character)
//! split across network reads is reassembled exactly; each line is scanned once, so a 1 MB line
//! costs linear time; invalid UTF-8 is replaced (U+FFFD), never an error.

/// Splits a byte stream into lines (`\n` or `\r\n`), decoding each line lossily as UTF-8.
#[derive(Debug, Default)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for a newline.
    scanned: usize,
}

impl LineBuffer {
    /// Append a chunk and return every line it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(chunk);
        let mut lines = Vec::new();
        let mut start = 0;
        let mut pos = self.scanned;
        while let Some(offset) = self.buf[pos..].iter().position(|&b| b == b'\n') {
            let end = pos + offset;
            let mut line = &self.buf[start..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            lines.push(String::from_utf8_lossy(line).into_owned());
            start = end + 1;
            pos = start;
        }
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        lines
    }

    /// The unterminated rest at end of stream, if any.
    pub fn finish(&mut self) -> Option<String> {
        self.scanned = 0;
        if self.buf.is_empty() {
            return None;
        }
        let rest = std::mem::take(&mut self.buf);
        let text = String::from_utf8_lossy(&rest);
        let text = text.trim_end_matches('\r');
        (!text.trim().is_empty()).then(|| text.to_string())
    }
}

/// One Server-Sent Event: the `event:` name (if any) and the joined `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Decodes `text/event-stream` per the WHATWG spec (fields `event`, `data`; comments ignored).
#[derive(Debug, Default)]
pub struct SseDecoder {
    lines: LineBuffer,
    event: Option<String>,
    data: Option<String>,
}

impl SseDecoder {
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let lines = self.lines.push(chunk);
        let mut events = Vec::new();
        for line in lines {
            self.take_line(line, &mut events);
        }
        events
    }

    /// Flush at end of stream: a final event without its blank line still counts.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if let Some(line) = self.lines.finish() {
            self.take_line(line, &mut events);
        }
        self.take_line(String::new(), &mut events);
        events
    }

    fn take_line(&mut self, line: String, events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                events.push(SseEvent { event: self.event.take(), data });
            }
            self.event = None;
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_and_utf8_boundaries() {
        let text = "héllo ✓\r\nsecond\n";
        let mut buf = LineBuffer::default();
        let mut out = Vec::new();
        for byte in text.as_bytes() {
            out.extend(buf.push(std::slice::from_ref(byte)));
        }
        assert_eq!(out, vec!["héllo ✓".to_string(), "second".to_string()]);
        assert_eq!(buf.finish(), None);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let mut buf = LineBuffer::default();
        let lines = buf.push(b"a\xff\xfeb\n");
        assert_eq!(lines, vec!["a\u{fffd}\u{fffd}b".to_string()]);
    }

    #[test]
    fn unterminated_tail_is_returned_at_finish() {
        let mut buf = LineBuffer::default();
        assert!(buf.push(b"{\"done\":true}").is_empty());
        assert_eq!(buf.finish().as_deref(), Some("{\"done\":true}"));
    }

    #[test]
    fn sse_events_with_names_multiline_data_and_comments() {
        let mut dec = SseDecoder::default();
        let stream = ": keep-alive\nevent: ping\ndata: {}\n\ndata: a\ndata: b\n\nevent: x\ndata:tail";
        let mut events = dec.push(stream.as_bytes());
        events.extend(dec.finish());
        assert_eq!(
            events,
            vec![
                SseEvent { event: Some("ping".into()), data: "{}".into() },
                SseEvent { event: None, data: "a\nb".into() },
                SseEvent { event: Some("x".into()), data: "tail".into() },
            ]
        );
    }

    #[test]
    fn a_megabyte_line_is_linear() {
        let mut buf = LineBuffer::default();
        let chunk = vec![b'x'; 4096];
        for _ in 0..256 {
            assert!(buf.push(&chunk).is_empty());
        }
        let lines = buf.push(b"\n");
        assert_eq!(lines[0].len(), 4096 * 256);
    }
}
