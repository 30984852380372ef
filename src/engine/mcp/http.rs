//! One MCP server over streamable HTTP: rmcp's client transport driven by kv1nt's own
//! reqwest 0.12 client ([`Http`]), so there is one HTTP and TLS stack (rmcp's built-in client
//! is for reqwest 0.13), and the headers a server needs ([`ServerSettings::http_headers`]).
//!
//! Invariants: header values (tokens) are read from the environment at connect time, marked
//! sensitive (masked in `Debug`), sent only to the configured origin (no cross-origin or
//! method-changing redirect is followed) and never logged; a response body is read within a
//! size limit ([`MAX_BODY`], and one SSE event at most [`MAX_BODY`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorData, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::common::http_header::{
    EVENT_STREAM_MIME_TYPE, HEADER_LAST_EVENT_ID, HEADER_SESSION_ID, JSON_MIME_TYPE,
};
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, SseError, StreamableHttpClient, StreamableHttpClientTransportConfig,
    StreamableHttpError, StreamableHttpPostResponse,
};
use sse_stream::{Sse, SseStream};

use super::server::Service;
use super::settings::ServerSettings;

/// Most bytes of one JSON response, or of one SSE event.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

type Error = StreamableHttpError<reqwest::Error>;

/// kv1nt's HTTP client for one server: its headers on every request.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    /// A client that sends `headers` (sensitive) with every request.
    pub fn new(headers: Vec<(String, String)>) -> Result<Http, String> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let header =
                HeaderName::try_from(name.as_str()).map_err(|_| format!("`{name}` is not a header name"))?;
            let mut value = HeaderValue::try_from(value)
                .map_err(|_| format!("the value of header `{name}` has characters a header cannot carry"))?;
            value.set_sensitive(true);
            map.insert(header, value);
        }
        let client = reqwest::Client::builder()
            .default_headers(map)
            .pool_max_idle_per_host(0)
            .connect_timeout(Duration::from_secs(15))
            .redirect(same_origin_redirects())
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(Http { client })
    }
}

/// The handshake with the server at `settings.url`.
/// `headers` are [`ServerSettings::http_headers`], already read from the environment.
pub(super) async fn connect(
    settings: &ServerSettings,
    headers: Result<Vec<(String, String)>, String>,
    timeout: Duration,
) -> Result<Service, String> {
    let url = settings.url.clone().unwrap_or_default();
    let client = Http::new(headers?)?;
    let config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
    let transport = StreamableHttpClientTransport::with_client(client, config);
    let handshake = async { ().serve(transport).await.map_err(|e| describe(&url, &e.to_string())) };
    tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| format!("{url} did not finish the handshake within {} s", timeout.as_secs()))?
}

/// A handshake failure in words (rmcp's nests the cause; an auth failure gets its hint).
fn describe(url: &str, error: &str) -> String {
    if error.contains("Auth required") || error.contains("401") {
        return format!(
            "{url} refused kv1nt (401 Unauthorized): set its token (`bearer_token_env` or `headers`) in the environment"
        );
    }
    format!("handshake with {url} failed: {error}")
}

fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let keeps_body =
            matches!(attempt.status(), StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT);
        let same_origin =
            attempt.previous().first().is_some_and(|first| first.origin() == attempt.url().origin());
        if !keeps_body || !same_origin || attempt.previous().len() > 5 {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

fn with_common(
    mut request: reqwest::RequestBuilder,
    session_id: Option<&str>,
    auth: Option<String>,
    custom: HashMap<HeaderName, HeaderValue>,
) -> reqwest::RequestBuilder {
    request = request.header(http::header::ACCEPT, format!("{EVENT_STREAM_MIME_TYPE}, {JSON_MIME_TYPE}"));
    if let Some(id) = session_id {
        request = request.header(HEADER_SESSION_ID, id);
    }
    if let Some(token) = auth {
        request = request.bearer_auth(token);
    }
    for (name, value) in custom {
        request = request.header(name, value);
    }
    request
}

/// A request that got no answer, with its causes ("connection refused"), which reqwest's own
/// message leaves out.
fn unsent(e: reqwest::Error) -> Error {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    StreamableHttpError::UnexpectedServerResponse(Cow::Owned(text))
}

fn media_type_is(value: &str, expected: &str) -> bool {
    value.split(';').next().is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

fn auth_failure(response: &reqwest::Response) -> Option<Error> {
    let status = response.status();
    if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
        return None;
    }
    let challenge = response
        .headers()
        .get(http::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Bearer")
        .to_string();
    Some(StreamableHttpError::AuthRequired(AuthRequiredError::new(challenge)))
}

/// An SSE body, each event at most [`MAX_BODY`] bytes (a terminator split across two chunks
/// counts the event longer than it is, never shorter).
fn sse(response: reqwest::Response) -> BoxStream<'static, Result<Sse, SseError>> {
    let mut pending = 0usize;
    let mut over = false;
    let bounded = response.bytes_stream().scan((), move |_, chunk| {
        if over {
            return futures_util::future::ready(None);
        }
        let item = chunk.map_err(std::io::Error::other).and_then(|chunk| {
            let tail = [&b"\n\n"[..], b"\r\n\r\n", b"\r\r"]
                .iter()
                .filter_map(|t| {
                    chunk.windows(t.len()).rposition(|w| w == *t).map(|p| chunk.len() - p - t.len())
                })
                .min();
            pending = match tail {
                Some(after) => after,
                None => pending + chunk.len(),
            };
            if pending > MAX_BODY {
                over = true;
                return Err(std::io::Error::other(format!("an SSE event over {MAX_BODY} bytes")));
            }
            Ok(chunk)
        });
        futures_util::future::ready(Some(item))
    });
    SseStream::from_bytes_stream(bounded).boxed()
}

async fn bounded_body(response: reqwest::Response) -> Result<Vec<u8>, Error> {
    if response.content_length().is_some_and(|n| n as usize > MAX_BODY) {
        return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: MAX_BODY });
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(StreamableHttpError::Client)?);
        if body.len() > MAX_BODY {
            return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: MAX_BODY });
        }
    }
    Ok(body)
}

/// A server of the older protocol answers `server/discover` with a 4xx: that becomes the
/// JSON-RPC error rmcp expects, so it falls back to `initialize`.
fn discover_refused(
    message: &ClientJsonRpcMessage,
    status: StatusCode,
    body: &str,
) -> Option<StreamableHttpPostResponse> {
    let ClientJsonRpcMessage::Request(request) = message else { return None };
    if !matches!(request.request, ClientRequest::DiscoverRequest(_)) || !status.is_client_error() {
        return None;
    }
    let error = match serde_json::from_str::<ServerJsonRpcMessage>(body) {
        Ok(JsonRpcMessage::Error(e)) => e.error,
        _ => ErrorData::invalid_request(format!("server/discover rejected with HTTP {status}"), None),
    };
    Some(StreamableHttpPostResponse::Json(ServerJsonRpcMessage::error(error, Some(request.id.clone())), None))
}

impl StreamableHttpClient for Http {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth: Option<String>,
        custom: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let attached = session_id.is_some();
        let request = with_common(self.client.post(uri.as_ref()), session_id.as_deref(), auth, custom);
        let response = request.json(&message).send().await.map_err(unsent)?;
        let status = response.status();
        if let Some(e) = auth_failure(&response) {
            return Err(e);
        }
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && attached {
            return Err(StreamableHttpError::SessionExpired);
        }
        let no_reply_needed = !matches!(message, ClientJsonRpcMessage::Request(_));
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let session =
            response.headers().get(HEADER_SESSION_ID).and_then(|v| v.to_str().ok()).map(str::to_string);
        if !status.is_success() {
            let body = bounded_body(response).await.unwrap_or_default();
            let body = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]).into_owned();
            if let Ok(error @ JsonRpcMessage::Error(_)) = serde_json::from_str::<ServerJsonRpcMessage>(&body)
            {
                return Ok(StreamableHttpPostResponse::Json(error, session));
            }
            if !attached && let Some(answer) = discover_refused(&message, status, &body) {
                return Ok(answer);
            }
            let body: String = body.chars().take(300).collect();
            return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(format!(
                "HTTP {status}: {body}"
            ))));
        }
        match content_type.as_deref() {
            Some(ct) if media_type_is(ct, EVENT_STREAM_MIME_TYPE) => {
                Ok(StreamableHttpPostResponse::Sse(sse(response), session))
            }
            Some(ct) if media_type_is(ct, JSON_MIME_TYPE) => {
                let body = bounded_body(response).await?;
                match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
                    Ok(parsed) => Ok(StreamableHttpPostResponse::Json(parsed, session)),
                    Err(_) if no_reply_needed => Ok(StreamableHttpPostResponse::Accepted),
                    Err(e) => Err(StreamableHttpError::Deserialize(e)),
                }
            }
            _ if no_reply_needed => Ok(StreamableHttpPostResponse::Accepted),
            _ => Err(StreamableHttpError::UnexpectedContentType(content_type)),
        }
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth: Option<String>,
        custom: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), Error> {
        let request = with_common(self.client.delete(uri.as_ref()), Some(&session_id), auth, custom);
        let response = request.send().await.map_err(unsent)?;
        if response.status() != StatusCode::METHOD_NOT_ALLOWED {
            response.error_for_status().map_err(StreamableHttpError::Client)?;
        }
        Ok(())
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth: Option<String>,
        custom: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        let mut request = with_common(self.client.get(uri.as_ref()), session_id.as_deref(), auth, custom);
        if let Some(id) = last_event_id {
            request = request.header(HEADER_LAST_EVENT_ID, id);
        }
        let response = request.send().await.map_err(unsent)?;
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        if let Some(e) = auth_failure(&response) {
            return Err(e);
        }
        let response = response.error_for_status().map_err(StreamableHttpError::Client)?;
        let content_type = response.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if !content_type.is_some_and(|ct| media_type_is(ct, EVENT_STREAM_MIME_TYPE)) {
            return Err(StreamableHttpError::UnexpectedContentType(content_type.map(str::to_string)));
        }
        Ok(sse(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_checked_and_kept_out_of_debug() {
        assert!(Http::new(vec![("Authorization".into(), "Bearer t0k".into())]).is_ok());
        let err = Http::new(vec![("Bad Name".into(), "x".into())]).err().unwrap();
        assert!(err.contains("`Bad Name` is not a header name"), "{err}");
        let err = Http::new(vec![("X-Token".into(), "a\nb".into())]).err().unwrap();
        assert!(err.contains("header `X-Token`") && !err.contains("a\nb"), "{err}");
        let mut value = HeaderValue::from_static("Bearer secret");
        value.set_sensitive(true);
        assert!(!format!("{value:?}").contains("secret"));
    }

    #[test]
    fn media_types_compare_by_essence() {
        assert!(media_type_is("text/event-stream; charset=utf-8", EVENT_STREAM_MIME_TYPE));
        assert!(media_type_is("Application/JSON", JSON_MIME_TYPE));
        assert!(!media_type_is("text/html", JSON_MIME_TYPE));
    }
}
