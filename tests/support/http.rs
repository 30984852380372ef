//! A deliberately tiny, hand-written HTTP/1.1 server layer for the scripted
//! model servers.
//!
//! It is hand-written (instead of using hyper) so that every fault is under
//! the test's control: each [`Conn::write_event`] is exactly one TCP write
//! (or several 3-byte writes in split mode), sockets can be closed in the
//! middle of a chunked body, and nothing is buffered behind our back.
//!
//! Supported: request line, headers, `content-length` or `chunked` request
//! bodies. Every response carries `connection: close`; the connection is
//! closed after one response (no keep-alive).

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Upper bound on the request head (request line + headers).
const MAX_HEAD: usize = 64 * 1024;
/// Upper bound on a request body.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// One parsed HTTP request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target exactly as sent (path plus any query string).
    pub target: String,
    /// Header names lowercased, values trimmed, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The target without its query string.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed (or reset) before a full request arrived.
    Closed,
    /// The bytes were not a valid HTTP/1.1 request.
    Malformed(&'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Closed
    }
}

/// One accepted connection.
pub struct Conn {
    stream: TcpStream,
    /// Bytes read past the end of the head, not yet consumed.
    buf: Vec<u8>,
    /// Write every event in 3-byte pieces.
    pub split: bool,
    /// Whether the response body uses `transfer-encoding: chunked`.
    chunked: bool,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        let _ = stream.set_nodelay(true);
        Conn { stream, buf: Vec::new(), split: false, chunked: false }
    }

    async fn fill(&mut self) -> Result<(), ReadError> {
        let mut tmp = [0u8; 8192];
        let n = self.stream.read(&mut tmp).await?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(())
    }

    /// Reads `\r\n`-terminated line from the buffered input.
    async fn read_line(&mut self) -> Result<String, ReadError> {
        loop {
            if let Some(pos) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).take(pos).collect();
                return String::from_utf8(line).map_err(|_| ReadError::Malformed("non-utf8"));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Malformed("line too long"));
            }
            self.fill().await?;
        }
    }

    async fn read_exact_buf(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < n {
            self.fill().await?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads one full request: request line, headers and body.
    pub async fn read_request(&mut self) -> Result<Request, ReadError> {
        loop {
            if find(&self.buf, b"\r\n\r\n").is_some() {
                break;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Malformed("head too large"));
            }
            self.fill().await?;
        }
        let request_line = self.read_line().await?;
        let mut parts = request_line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ReadError::Malformed("bad request line"));
        };
        if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
            return Err(ReadError::Malformed("bad request line"));
        }
        let (method, target) = (method.to_string(), target.to_string());
        let mut headers = Vec::new();
        loop {
            let line = self.read_line().await?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(ReadError::Malformed("bad header"));
            };
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        let mut req = Request { method, target, headers, body: Vec::new() };
        let chunked =
            req.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            loop {
                let size_line = self.read_line().await?;
                let size_hex = size_line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_hex, 16)
                    .map_err(|_| ReadError::Malformed("bad chunk size"))?;
                if req.body.len() + size > MAX_BODY {
                    return Err(ReadError::Malformed("body too large"));
                }
                if size == 0 {
                    // Trailers, then the final empty line.
                    while !self.read_line().await?.is_empty() {}
                    break;
                }
                let data = self.read_exact_buf(size + 2).await?;
                req.body.extend_from_slice(&data[..size]);
            }
        } else if let Some(len) = req.header("content-length") {
            let len: usize = len.parse().map_err(|_| ReadError::Malformed("bad content-length"))?;
            if len > MAX_BODY {
                return Err(ReadError::Malformed("body too large"));
            }
            req.body = self.read_exact_buf(len).await?;
        }
        Ok(req)
    }

    /// Writes bytes, honouring split mode (3-byte pieces, yielding between
    /// them so the reader really sees them separately).
    async fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.split {
            for piece in bytes.chunks(3) {
                self.stream.write_all(piece).await?;
                self.stream.flush().await?;
                tokio::task::yield_now().await;
            }
            Ok(())
        } else {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        }
    }

    /// Writes a complete (non-streamed) response with a `content-length`.
    pub async fn write_full(
        &mut self,
        status: u16,
        extra_headers: &[(String, String)],
        content_type: &str,
        body: &[u8],
    ) -> io::Result<()> {
        let mut head = head(status, extra_headers, content_type);
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes).await?;
        self.stream.flush().await?;
        self.close().await;
        Ok(())
    }

    /// Starts a streamed response. With `chunked`, events are framed as
    /// HTTP chunks; otherwise the body is delimited by closing the socket.
    pub async fn start_stream(
        &mut self,
        status: u16,
        extra_headers: &[(String, String)],
        content_type: &str,
        chunked: bool,
    ) -> io::Result<()> {
        self.chunked = chunked;
        let mut head = head(status, extra_headers, content_type);
        head.push_str("cache-control: no-cache\r\n");
        if chunked {
            head.push_str("transfer-encoding: chunked\r\n");
        }
        head.push_str("\r\n");
        self.stream.write_all(head.as_bytes()).await?;
        self.stream.flush().await
    }

    /// Writes one event as one TCP write (one HTTP chunk when chunked).
    pub async fn write_event(&mut self, event: &[u8]) -> io::Result<()> {
        if event.is_empty() {
            return Ok(());
        }
        if self.chunked {
            let mut framed = format!("{:x}\r\n", event.len()).into_bytes();
            framed.extend_from_slice(event);
            framed.extend_from_slice(b"\r\n");
            self.write_raw(&framed).await
        } else {
            self.write_raw(event).await
        }
    }

    /// Like [`write_event`](Self::write_event), but first pauses for
    /// `delay` unless this is the first event (`first` is then cleared).
    pub async fn write_event_paced(
        &mut self,
        event: &[u8],
        delay: Duration,
        first: &mut bool,
    ) -> io::Result<()> {
        if !*first && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        *first = false;
        self.write_event(event).await
    }

    /// Ends the body properly (terminating chunk) and closes the socket.
    pub async fn finish(&mut self) -> io::Result<()> {
        if self.chunked {
            self.write_raw(b"0\r\n\r\n").await?;
        }
        self.close().await;
        Ok(())
    }

    /// Closes the write side; the socket is fully closed on drop.
    pub async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// Sends nothing and waits until the peer disconnects (EOF or error),
    /// but at most `cap`.
    pub async fn stall_until_disconnect(&mut self, cap: Duration) {
        let wait = async {
            let mut tmp = [0u8; 1024];
            loop {
                match self.stream.read(&mut tmp).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        };
        let _ = tokio::time::timeout(cap, wait).await;
    }
}

fn head(status: u16, extra_headers: &[(String, String)], content_type: &str) -> String {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    head.push_str(&format!("content-type: {content_type}\r\n"));
    head.push_str("connection: close\r\n");
    for (name, value) in extra_headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Standard reason phrase for a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "Unknown",
    }
}
