//! Request head limits (ARCHITECTURE §6): at most 16 KiB of request line and headers, and at
//! most 100 header lines. Counted on the bytes as they arrive, before hyper parses them, so
//! an oversize head gets the JSON 431 (hyper's own answer has an empty body, and its limit
//! is ~400 KB). Pure: bytes in, a verdict out; the connection's IO acts on it.

use axum::http::StatusCode;

use super::errors::ApiError;

/// Largest request head (request line, headers and their line ends) accepted.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most header lines accepted in one request.
pub const MAX_HEADERS: usize = 100;

/// Where the scan of one request head stands.
#[derive(Debug, Default)]
pub struct HeadScan {
    len: usize,
    /// Lines ended so far (the request line is the first).
    lines: usize,
    /// A byte other than CR/LF was seen (empty lines before a request are skipped, as
    /// hyper's parser does).
    started: bool,
    /// Nothing but CR since the last LF: the next LF ends the head.
    line_empty: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The head goes on in the next bytes.
    More,
    /// The head ended within the first `n` bytes given (the rest is body or the next request).
    Complete(usize),
    TooLarge,
    TooManyHeaders,
}

impl HeadScan {
    /// Scans the next bytes of the head. After `Complete` the scan starts again from zero.
    pub fn feed(&mut self, bytes: &[u8]) -> Verdict {
        for (i, &b) in bytes.iter().enumerate() {
            self.len += 1;
            if self.len > MAX_HEAD_BYTES {
                return Verdict::TooLarge;
            }
            if !self.started {
                self.started = !matches!(b, b'\r' | b'\n');
                continue;
            }
            match b {
                b'\n' if self.line_empty => {
                    *self = HeadScan::default();
                    return Verdict::Complete(i + 1);
                }
                b'\n' => {
                    self.lines += 1;
                    if self.lines > MAX_HEADERS + 1 {
                        return Verdict::TooManyHeaders;
                    }
                    self.line_empty = true;
                }
                b'\r' => {}
                _ => self.line_empty = false,
            }
        }
        Verdict::More
    }
}

/// The 431 answer for a head over a limit, in the API's error shape.
pub fn rejection(verdict: &Verdict) -> Vec<u8> {
    let message = match verdict {
        Verdict::TooManyHeaders => {
            format!("the request has more than {MAX_HEADERS} headers: send fewer")
        }
        _ => format!(
            "the request head (request line and headers) is over {} KiB: send fewer or shorter headers",
            MAX_HEAD_BYTES / 1024
        ),
    };
    ApiError::new(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
        message,
    )
    .raw_http1()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: usize, value_len: usize) -> Vec<u8> {
        let mut h = b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n".to_vec();
        for i in 1..headers {
            h.extend_from_slice(format!("X-H{i}: {}\r\n", "v".repeat(value_len)).as_bytes());
        }
        h.extend_from_slice(b"\r\n");
        h
    }

    #[test]
    fn a_head_ends_at_its_empty_line_and_the_rest_is_left_alone() {
        let mut s = HeadScan::default();
        let mut bytes = head(3, 10);
        let n = bytes.len();
        bytes.extend_from_slice(b"{\"body\":\n\n}");
        assert_eq!(s.feed(&bytes), Verdict::Complete(n));
        // Bare LF line ends and empty lines before the request line, as hyper accepts them.
        let mut s = HeadScan::default();
        assert_eq!(s.feed(b"\r\nGET / HTTP/1.1\nHost: x\n"), Verdict::More);
        assert_eq!(s.feed(b"\n"), Verdict::Complete(1));
    }

    #[test]
    fn byte_by_byte_is_the_same_as_at_once() {
        let bytes = head(50, 20);
        let mut s = HeadScan::default();
        let ends: Vec<usize> = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| s.feed(std::slice::from_ref(b)) != Verdict::More)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(ends, vec![bytes.len() - 1]);
    }

    #[test]
    fn limits_are_exact() {
        assert!(matches!(
            HeadScan::default().feed(&head(MAX_HEADERS, 10)),
            Verdict::Complete(_)
        ));
        assert_eq!(
            HeadScan::default().feed(&head(MAX_HEADERS + 1, 10)),
            Verdict::TooManyHeaders
        );
        let fits = head(2, 0).len();
        let exact = head(2, MAX_HEAD_BYTES - fits);
        assert_eq!(exact.len(), MAX_HEAD_BYTES);
        assert!(matches!(
            HeadScan::default().feed(&exact),
            Verdict::Complete(_)
        ));
        let over = head(2, MAX_HEAD_BYTES - fits + 1);
        assert_eq!(HeadScan::default().feed(&over), Verdict::TooLarge);
        // A head that never ends is cut at the limit, not buffered.
        let mut s = HeadScan::default();
        assert_eq!(s.feed(&vec![b'a'; MAX_HEAD_BYTES]), Verdict::More);
        assert_eq!(s.feed(b"a"), Verdict::TooLarge);
    }

    #[test]
    fn the_rejection_is_a_json_431_that_closes() {
        let raw = String::from_utf8(rejection(&Verdict::TooManyHeaders)).expect("utf8");
        let (head, body) = raw.split_once("\r\n\r\n").expect("a head");
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        assert!(head.contains("connection: close"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(v["error"]["code"], "headers_too_large");
        assert!(v["error"]["message"].as_str().unwrap_or("").contains("100"));
    }
}
