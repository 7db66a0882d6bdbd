//! The client the CLI words use to reach a running board: finds it through
//! `<data>/endpoint` (checking its pid is alive before sending the token) or the agent's
//! `TASKBOARD_URL` / `TASKBOARD_TOKEN`, then speaks HTTP/1 with hyper.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::datadir::DataDir;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no taskboard is running on {0} (start one with `taskboard run` or `taskboard up`)")]
    NotRunning(String),
    #[error("cannot reach the board at {url}: {detail}")]
    Io { url: String, detail: String },
    #[error("{message}")]
    Api {
        status: u16,
        message: String,
        body: Value,
    },
}

pub struct Client {
    pub url: String,
    authority: String,
    token: String,
    /// Sent as `X-Taskboard-Client`: the audit's source (`cli`, `tui`).
    who: &'static str,
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Body bytes this process has read from a board (answers and event streams): what an
/// attached TUI costs per change (`TASKBOARD_DRAW_LOG` prints it with each frame).
pub static RECEIVED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts `n` bytes read from a board.
pub fn received(n: usize) {
    RECEIVED.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
}

/// Whether a process with this pid exists (signal 0).
pub fn pid_alive(pid: u32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok()
}

impl Client {
    /// The running board of `data`, or the one named by the agent environment.
    pub fn discover(data: &DataDir) -> Result<Client, ClientError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let (Some(url), Some(token)) = (env("TASKBOARD_URL"), env("TASKBOARD_TOKEN")) {
            return Client::new(&url, token);
        }
        Client::of_data_dir(data)
    }

    /// The board running on `data` (never the agent environment's).
    pub fn of_data_dir(data: &DataDir) -> Result<Client, ClientError> {
        let not_running = || ClientError::NotRunning(data.root.display().to_string());
        let text = std::fs::read_to_string(data.endpoint()).map_err(|_| not_running())?;
        let mut lines = text.lines();
        let url = lines.next().ok_or_else(not_running)?.trim().to_string();
        let pid: u32 = lines
            .next()
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(not_running)?;
        // A stale endpoint after a crash must never hand the token to whatever took the port.
        if !pid_alive(pid) || data.running_pid() != Some(pid) {
            return Err(not_running());
        }
        let token = std::fs::read_to_string(data.token())
            .map_err(|_| not_running())?
            .trim()
            .to_string();
        Client::new(&url, token)
    }

    pub fn new(url: &str, token: String) -> Result<Client, ClientError> {
        let url = url.trim_end_matches('/').to_string();
        let authority = url
            .strip_prefix("http://")
            .unwrap_or(&url)
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        if authority.is_empty() {
            return Err(ClientError::Io {
                url,
                detail: "not an http:// URL".into(),
            });
        }
        Ok(Client {
            url,
            authority,
            token,
            who: "cli",
        })
    }

    /// The same client, audited as `who` (`tui` for an attached TUI).
    pub fn named(self, who: &'static str) -> Client {
        Client { who, ..self }
    }

    fn io(&self, detail: impl ToString) -> ClientError {
        ClientError::Io {
            url: self.url.clone(),
            detail: detail.to_string(),
        }
    }

    /// A new keep-alive connection.
    async fn connect(&self) -> Result<Sender, ClientError> {
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(|e| self.io(e))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.io(e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// A request to this board with the host, token and client headers set.
    fn request(&self, method: &str, path: &str) -> hyper::http::request::Builder {
        hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.authority)
            .header("authorization", format!("Bearer {}", self.token))
            .header("x-taskboard-client", self.who)
    }

    /// One request; a non-2xx answer becomes `ClientError::Api` with the server's message.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, ClientError> {
        let mut sender = self.connect().await?;
        let bytes = Bytes::from(body.map(|b| b.to_string()).unwrap_or_default());
        self.send(&mut sender, method, path, bytes, idempotency_key)
            .await
    }

    async fn send(
        &self,
        sender: &mut Sender,
        method: &str,
        path: &str,
        body: Bytes,
        idempotency_key: Option<&str>,
    ) -> Result<Value, ClientError> {
        let mut req = self
            .request(method, path)
            .header("content-type", "application/json");
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        let req = req.body(Full::new(body)).map_err(|e| self.io(e))?;
        let (status, raw) = self.exchange(sender, req).await?;
        if (200..300).contains(&status) {
            Ok(serde_json::from_slice(&raw).unwrap_or(Value::Null))
        } else {
            Err(api_error(status, &raw))
        }
    }

    /// Sends `req` and reads the whole answer: its status and body.
    async fn exchange(
        &self,
        sender: &mut Sender,
        req: hyper::Request<Full<Bytes>>,
    ) -> Result<(u16, Bytes), ClientError> {
        sender.ready().await.map_err(|e| self.io(e))?;
        let resp = sender.send_request(req).await.map_err(|e| self.io(e))?;
        let status = resp.status().as_u16();
        let raw = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| self.io(e))?
            .to_bytes();
        received(raw.len());
        Ok((status, raw))
    }

    /// A `GET`'s body as the board sent it (for answers printed as they are); non-2xx is
    /// an error.
    pub async fn get_bytes(&self, path: &str) -> Result<Bytes, ClientError> {
        let mut sender = self.connect().await?;
        let req = self
            .request("GET", path)
            .body(Full::new(Bytes::new()))
            .map_err(|e| self.io(e))?;
        let (status, raw) = self.exchange(&mut sender, req).await?;
        if !(200..300).contains(&status) {
            return Err(api_error(status, &raw));
        }
        Ok(raw)
    }

    /// The streaming body of a `GET` (Server-Sent Events); non-2xx is an error.
    pub async fn stream(&self, path: &str) -> Result<hyper::body::Incoming, ClientError> {
        let mut sender = self.connect().await?;
        let req = self
            .request("GET", path)
            .header("accept", "text/event-stream")
            .body(Full::new(Bytes::new()))
            .map_err(|e| self.io(e))?;
        let resp = sender.send_request(req).await.map_err(|e| self.io(e))?;
        if !resp.status().is_success() {
            return Err(ClientError::Api {
                status: resp.status().as_u16(),
                message: format!("HTTP {}", resp.status()),
                body: Value::Null,
            });
        }
        Ok(resp.into_body())
    }
}

/// A non-2xx answer: the board's JSON error message, or the status when there is none.
fn api_error(status: u16, raw: &[u8]) -> ClientError {
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let message = body["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP {status}"));
    ClientError::Api {
        status,
        message,
        body,
    }
}

/// One keep-alive connection for a stream of requests (keys typed into an attached pane),
/// made again after an error.
pub struct Conn<'a> {
    client: &'a Client,
    sender: Option<Sender>,
}

impl<'a> Conn<'a> {
    pub fn new(client: &'a Client) -> Conn<'a> {
        Conn {
            client,
            sender: None,
        }
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Bytes,
    ) -> Result<Value, ClientError> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.client.connect().await?,
        };
        // A kept connection the server has closed meanwhile: nothing was sent on it yet.
        if sender.ready().await.is_err() {
            sender = self.client.connect().await?;
        }
        let r = self
            .client
            .send(&mut sender, method, path, body, None)
            .await;
        if !matches!(r, Err(ClientError::Io { .. })) {
            self.sender = Some(sender);
        }
        r
    }
}
