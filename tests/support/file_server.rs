//! A static file server for download tests, speaking real HTTP/1.1 over a tokio `TcpListener`:
//! `GET` and `HEAD`, `Range: bytes=N-` answered `206` with `Content-Range`, `Content-Length` on
//! every answer, `ETag` and extra headers per file, and a fault: the first full `GET` of a file
//! can close the connection after some bytes of its body; a path can redirect elsewhere with
//! headers of its own (Hugging Face's `X-Linked-Etag` on the way to its CDN). Every request is
//! recorded.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One file the server serves at `path`.
#[derive(Clone, Default)]
pub struct Served {
    pub path: String,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub headers: Vec<(String, String)>,
    /// Close the first `GET` without a `Range` after this many body bytes.
    pub drop_first_after: Option<usize>,
    /// Answer `302 Found` to this path instead (with `headers`), as Hugging Face sends a file to
    /// its CDN; `body` is then unused.
    pub redirect_to: Option<String>,
}

/// What a request asked for.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
}

pub struct FileServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FileServer {
    pub async fn start(files: Vec<Served>) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let files = Arc::new(Mutex::new(files));
        let record = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (files, record) = (files.clone(), record.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, files, record).await;
                });
            }
        });
        FileServer { url, seen, task }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    files: Arc<Mutex<Vec<Served>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, path) =
        (first.next().unwrap_or_default().to_string(), first.next().unwrap_or_default().to_string());
    let range = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("range"))
        .map(|(_, v)| v.trim().to_string());
    seen.lock().unwrap().push(Seen { method: method.clone(), path: path.clone(), range: range.clone() });
    let file = {
        let mut files = files.lock().unwrap();
        let found = files.iter_mut().find(|f| f.path == path);
        found.map(|file| {
            let copy = file.clone();
            if method == "GET" && range.is_none() {
                file.drop_first_after = None;
            }
            copy
        })
    };
    let Some(file) = file else {
        stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await?;
        return Ok(());
    };
    if let Some(to) = &file.redirect_to {
        let mut head =
            format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n");
        for (k, v) in &file.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        return stream.write_all(head.as_bytes()).await;
    }
    let len = file.body.len();
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    let mut head = match start {
        Some(s) if s >= len => {
            let h = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(h.as_bytes()).await?;
            return Ok(());
        }
        Some(s) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{len}\r\nContent-Length: {}\r\n",
            len - 1,
            len - s
        ),
        None => format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n"),
    };
    head.push_str("Accept-Ranges: bytes\r\nConnection: close\r\n");
    if let Some(etag) = &file.etag {
        head.push_str(&format!("ETag: \"{etag}\"\r\n"));
    }
    for (k, v) in &file.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    if method == "HEAD" {
        return Ok(());
    }
    let body = &file.body[start.unwrap_or(0)..];
    match file.drop_first_after.filter(|_| start.is_none()) {
        Some(cut) => {
            stream.write_all(&body[..cut.min(body.len())]).await?;
            stream.flush().await?;
            // Closing with bytes still owed: the client sees the body end early.
        }
        None => stream.write_all(body).await?,
    }
    stream.shutdown().await
}
