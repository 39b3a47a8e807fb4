//! Scenario 3: listing every pod of the bulk namespace, in one response and in pages of
//! `limit`, several times each. Latency is the time the client waits for the server
//! (request sent to last byte received, summed over pages); parsing the answer (to count
//! items and find the continue token) is outside the clock.

use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use serde::de::IgnoredAny;

use super::pods_path;
use crate::{Client, LoadError, Percentiles};

/// Figures of the list scenario.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ListReport {
    /// Objects in every list.
    pub objects: usize,
    /// Runs of each kind.
    pub runs: usize,
    /// Bytes of one full list.
    pub full_bytes: usize,
    /// Latency of one full list.
    pub full: Percentiles,
    /// Page size of the paged runs.
    pub page_size: usize,
    /// Pages per paged run.
    pub pages: usize,
    /// Latency of one paged run (all pages).
    pub paged: Percentiles,
}

impl std::fmt::Display for ListReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "list: {} pods ({:.1} MB), {} runs: full list {};  limit={} ({} pages) {}",
            self.objects,
            self.full_bytes as f64 / 1e6,
            self.runs,
            self.full,
            self.page_size,
            self.pages,
            self.paged
        )
    }
}

#[derive(serde::Deserialize)]
struct ListHead {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<IgnoredAny>,
}

#[derive(Default, serde::Deserialize)]
struct ListMeta {
    #[serde(rename = "continue", default)]
    continue_token: Option<String>,
}

fn parse(what: &str, body: &[u8]) -> Result<ListHead, LoadError> {
    serde_json::from_slice(body).map_err(|source| LoadError::Json {
        what: what.to_owned(),
        source,
    })
}

/// Lists `namespace`'s pods (expecting `expected` of them) `runs` times whole, then `runs`
/// times in pages of `page_size`.
pub async fn run(
    client: &mut Client,
    namespace: &str,
    expected: usize,
    runs: usize,
    page_size: usize,
) -> Result<ListReport, LoadError> {
    let path = pods_path(namespace);
    let mut full = Vec::with_capacity(runs);
    let mut full_bytes = 0;
    for _ in 0..runs {
        let begun = Instant::now();
        let body = client
            .call("list pods", Method::GET, &path, None, &[StatusCode::OK])
            .await?;
        full.push(begun.elapsed());
        full_bytes = body.len();
        let items = parse("list pods", &body)?.items.len();
        if items != expected {
            return Err(LoadError::Check(format!(
                "full list returned {items} pods, expected {expected}"
            )));
        }
    }
    let mut paged = Vec::with_capacity(runs);
    let mut pages = 0;
    for _ in 0..runs {
        let mut waited = Duration::ZERO;
        let mut items = 0;
        let mut token: Option<String> = None;
        pages = 0;
        loop {
            let mut url = format!("{path}?limit={page_size}");
            if let Some(token) = &token {
                url.push_str("&continue=");
                url.push_str(&query_escape(token));
            }
            let begun = Instant::now();
            let body = client
                .call("list pods page", Method::GET, &url, None, &[StatusCode::OK])
                .await?;
            waited += begun.elapsed();
            pages += 1;
            let head = parse("list pods page", &body)?;
            items += head.items.len();
            token = head
                .metadata
                .continue_token
                .filter(|token| !token.is_empty());
            if token.is_none() {
                break;
            }
        }
        if items != expected {
            return Err(LoadError::Check(format!(
                "paged list returned {items} pods, expected {expected}"
            )));
        }
        paged.push(waited);
    }
    Ok(ListReport {
        objects: expected,
        runs,
        full_bytes,
        full: Percentiles::of(full),
        page_size,
        pages,
        paged: Percentiles::of(paged),
    })
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_are_escaped() {
        assert_eq!(query_escape("ab+/=_-"), "ab%2B%2F%3D_-");
    }
}
