//! A scripted model server on 127.0.0.1 for the real-agent tests: it speaks the Anthropic
//! Messages API (streaming, for Claude Code), the OpenAI Responses API (streaming, for
//! Codex) and OpenAI chat completions (streaming, for aider), answers each conversation
//! turn from a script of model turns the test chose, and records every request.
//!
//! Written in Rust, in the test process, rather than as a Python script: the test reads the
//! recorded requests and pushes turns directly (no files, no control port, no process to
//! leak), failures print the requests in the test's own message, and it reuses axum/tokio
//! the crate already builds.
//!
//! Which requests take a turn: agents also send side requests (Claude Code asks a small
//! model for a title, token counts, a quota probe). Only a request that offers tools
//! (Anthropic, Responses) or is a chat completion takes the next scripted turn; any other
//! gets a short text answer and takes none, so a script is exactly the conversation. A
//! scripted MCP tool call the agent does not offer yet waits behind Claude Code's
//! `WaitForMcpServers`, as a real model would call it.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// One model turn.
#[derive(Clone, Debug)]
pub enum Turn {
    /// Plain text, then the turn ends.
    Text(String),
    /// A tool call: the tool's name as the agent offered it, and its input.
    Tool { name: String, input: Value },
}

impl Turn {
    pub fn text(t: &str) -> Turn {
        Turn::Text(t.to_string())
    }
    pub fn tool(name: &str, input: Value) -> Turn {
        Turn::Tool {
            name: name.to_string(),
            input,
        }
    }
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub body: Value,
    /// Whether it took a scripted turn (a conversation turn) or was a side request.
    pub turn: bool,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Turn>,
    requests: Vec<Recorded>,
    calls: u64,
}

#[derive(Default)]
struct Shared {
    inner: Mutex<Inner>,
    changed: Condvar,
}

pub struct ModelServer {
    pub url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ModelServer {
    /// Starts the server on 127.0.0.1:0 with `script`.
    pub fn start(script: Vec<Turn>) -> ModelServer {
        let shared = Arc::new(Shared::default());
        shared.inner.lock().expect("lock").script = script.into();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind model server");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", std_listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
                let app = axum::Router::new().fallback(serve).with_state(state);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        ModelServer {
            url,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Adds turns to the end of the script.
    pub fn push(&self, turns: Vec<Turn>) {
        self.shared.inner.lock().expect("lock").script.extend(turns);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.inner.lock().expect("lock").requests.clone()
    }

    /// The conversation requests (those that took a turn), in order.
    pub fn turns(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.turn)
            .map(|r| r.body)
            .collect()
    }

    /// Turns not yet used.
    pub fn left(&self) -> usize {
        self.shared.inner.lock().expect("lock").script.len()
    }

    /// Waits until `n` conversation requests arrived; panics naming what came when not.
    pub fn wait_turns(&self, n: usize, limit: Duration) -> Vec<Value> {
        let end = Instant::now() + limit;
        let mut g = self.shared.inner.lock().expect("lock");
        loop {
            let got = g.requests.iter().filter(|r| r.turn).count();
            if got >= n {
                break;
            }
            let now = Instant::now();
            assert!(
                now < end,
                "model server: waited {limit:?} for {n} conversation requests, got {got}; requests: {}",
                summary(&g.requests)
            );
            g = self
                .shared
                .changed
                .wait_timeout(g, end - now)
                .expect("lock")
                .0;
        }
        drop(g);
        self.turns()
    }

    /// Every request's path and first words, for failure messages.
    pub fn summary(&self) -> String {
        summary(&self.shared.inner.lock().expect("lock").requests)
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn summary(reqs: &[Recorded]) -> String {
    let mut s = String::new();
    for r in reqs {
        let body = r.body.to_string();
        let cut: String = body.chars().take(300).collect();
        s.push_str(&format!("\n  {} turn={} {}", r.path, r.turn, cut));
        let tools = tool_names(&r.body);
        if !tools.is_empty() {
            s.push_str(&format!("\n    tools offered: {}", tools.join(" ")));
        }
        // The last tool result says what the agent's tool call got.
        if let Some(result) = last_tool_result(&r.body) {
            let cut: String = result.chars().take(400).collect();
            s.push_str(&format!("\n    last tool result: {cut}"));
        }
    }
    s
}

/// The text of the last tool result in a request (Anthropic `tool_result`, Responses
/// `function_call_output`, chat `role: tool`).
pub fn last_tool_result(body: &Value) -> Option<String> {
    let items = body["messages"]
        .as_array()
        .or_else(|| body["input"].as_array())?;
    let mut found = None;
    for m in items {
        if m["type"] == "function_call_output" || m["role"] == "tool" {
            found = Some(flatten_text(m));
        }
        for c in m["content"].as_array().into_iter().flatten() {
            if c["type"] == "tool_result" {
                found = Some(flatten_text(&c["content"]));
            }
        }
    }
    found
}

/// The text of every `role: user` message in a request (Anthropic, Responses or chat),
/// tool results included, as one string per message.
pub fn user_texts(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let items = body["messages"]
        .as_array()
        .or_else(|| body["input"].as_array())
        .cloned()
        .unwrap_or_default();
    for m in items {
        if m["role"] == "user" || m["type"] == "function_call_output" {
            out.push(flatten_text(&m));
        }
    }
    out
}

/// Every string inside `v`, joined by newlines.
pub fn flatten_text(v: &Value) -> String {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out.join("\n")
}

/// The tool names a request offered the model.
pub fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    t["name"]
                        .as_str()
                        .or_else(|| t["function"]["name"].as_str())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn serve(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let bytes: Bytes = match axum::body::to_bytes(req.into_body(), 64 << 20).await {
        Ok(b) => b,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let api = if path.ends_with("/messages/count_tokens") {
        return axum::Json(json!({"input_tokens": 100})).into_response();
    } else if path.ends_with("/messages") {
        Api::Anthropic
    } else if path.ends_with("/responses") {
        Api::Responses
    } else if path.ends_with("/chat/completions") {
        Api::Chat
    } else if path.ends_with("/models") {
        return axum::Json(
            json!({"object": "list", "data": [{"id": "scripted", "object": "model"}]}),
        )
        .into_response();
    } else {
        record(&shared, path, body, false);
        return (StatusCode::NOT_FOUND, "not scripted").into_response();
    };
    let takes_turn = match api {
        Api::Chat => true,
        _ => body["tools"].as_array().is_some_and(|t| !t.is_empty()),
    };
    let (turn, n) = {
        let mut g = shared.inner.lock().expect("lock");
        g.calls += 1;
        let turn = if !takes_turn {
            None
        } else if let Some(wait) = wait_for_mcp(g.script.front(), &body) {
            Some(wait)
        } else {
            g.script.pop_front()
        };
        (turn.unwrap_or_else(|| Turn::text("ok")), g.calls)
    };
    let stream = body["stream"].as_bool().unwrap_or(false);
    record(&shared, path, body.clone(), takes_turn);
    match api {
        Api::Anthropic if stream => sse(anthropic_events(&turn, n), ""),
        Api::Anthropic => axum::Json(anthropic_message(&turn, n)).into_response(),
        Api::Responses => sse(responses_events(&namespaced(turn, &body), n), ""),
        // Chat streams end with a literal `[DONE]` line.
        Api::Chat if stream => sse(chat_chunks(&turn, n), "data: [DONE]\n\n"),
        Api::Chat => axum::Json(chat_message(&turn, n)).into_response(),
    }
}

/// What a real model does when its next tool is an MCP tool the agent does not offer yet
/// but it offers `WaitForMcpServers` (Claude Code sends its first request while its MCP
/// servers still connect): it calls that first. The scripted turn stays next.
fn wait_for_mcp(next: Option<&Turn>, body: &Value) -> Option<Turn> {
    let Some(Turn::Tool { name, .. }) = next else {
        return None;
    };
    let offered = tool_names(body);
    let missing = name.starts_with("mcp__") && !offered.contains(name);
    (missing && offered.iter().any(|t| t == "WaitForMcpServers"))
        .then(|| Turn::tool("WaitForMcpServers", json!({})))
}

enum Api {
    Anthropic,
    Responses,
    Chat,
}

fn record(shared: &Shared, path: String, body: Value, turn: bool) {
    let mut g = shared.inner.lock().expect("lock");
    g.requests.push(Recorded { path, body, turn });
    shared.changed.notify_all();
}

fn sse(events: Vec<(Option<&'static str>, Value)>, trailer: &str) -> Response {
    let mut text = String::new();
    for (name, data) in events {
        if let Some(n) = name {
            text.push_str(&format!("event: {n}\n"));
        }
        text.push_str(&format!("data: {data}\n\n"));
    }
    text.push_str(trailer);
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
        .into_response()
}

fn usage() -> Value {
    json!({"input_tokens": 100, "output_tokens": 10, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
}

fn anthropic_block(turn: &Turn, n: u64) -> Value {
    match turn {
        Turn::Text(t) => json!({"type": "text", "text": t}),
        Turn::Tool { name, input } => {
            json!({"type": "tool_use", "id": format!("toolu_{n:04}"), "name": name, "input": input})
        }
    }
}

fn stop_reason(turn: &Turn) -> &'static str {
    match turn {
        Turn::Text(_) => "end_turn",
        Turn::Tool { .. } => "tool_use",
    }
}

fn anthropic_message(turn: &Turn, n: u64) -> Value {
    json!({
        "id": format!("msg_{n:04}"), "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [anthropic_block(turn, n)], "stop_reason": stop_reason(turn),
        "stop_sequence": null, "usage": usage(),
    })
}

fn anthropic_events(turn: &Turn, n: u64) -> Vec<(Option<&'static str>, Value)> {
    let mut msg = anthropic_message(turn, n);
    msg["content"] = json!([]);
    msg["stop_reason"] = Value::Null;
    let (start, delta) = match turn {
        Turn::Text(t) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": t}),
        ),
        Turn::Tool { name, input } => (
            json!({"type": "tool_use", "id": format!("toolu_{n:04}"), "name": name, "input": {}}),
            json!({"type": "input_json_delta", "partial_json": input.to_string()}),
        ),
    };
    vec![
        (
            Some("message_start"),
            json!({"type": "message_start", "message": msg}),
        ),
        (
            Some("content_block_start"),
            json!({"type": "content_block_start", "index": 0, "content_block": start}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ),
        (
            Some("content_block_stop"),
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            Some("message_delta"),
            json!({"type": "message_delta", "delta": {"stop_reason": stop_reason(turn), "stop_sequence": null}, "usage": {"output_tokens": 10}}),
        ),
        (Some("message_stop"), json!({"type": "message_stop"})),
    ]
}

/// Codex offers MCP tools as a `namespace` tool (`mcp__taskboard` holding `complete`) and
/// takes a call as `{"namespace": "mcp__taskboard", "name": "complete"}`; a script names
/// the tool in full (`mcp__taskboard__complete`), as Claude Code does, and this splits it.
fn namespaced(turn: Turn, body: &Value) -> Turn {
    let Turn::Tool { name, input } = &turn else {
        return turn;
    };
    let offered = body["tools"].as_array().cloned().unwrap_or_default();
    for t in offered.iter().filter(|t| t["type"] == "namespace") {
        let Some(ns) = t["name"].as_str() else {
            continue;
        };
        if let Some(rest) = name.strip_prefix(&format!("{ns}__")) {
            let mut input = input.clone();
            // Carried to `responses_item` beside the input, never sent as an argument.
            input["__namespace"] = json!(ns);
            return Turn::tool(rest, input);
        }
    }
    turn
}

fn responses_item(turn: &Turn, n: u64) -> Value {
    match turn {
        Turn::Text(t) => json!({
            "type": "message", "id": format!("msg_{n:04}"), "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": t, "annotations": []}],
        }),
        Turn::Tool { name, input } => {
            let mut args = input.clone();
            let ns = args.as_object_mut().and_then(|o| o.remove("__namespace"));
            let mut item = json!({
                "type": "function_call", "id": format!("fc_{n:04}"), "call_id": format!("call_{n:04}"),
                "name": name, "arguments": args.to_string(), "status": "completed",
            });
            if let Some(ns) = ns {
                item["namespace"] = ns;
            }
            item
        }
    }
}

fn responses_events(turn: &Turn, n: u64) -> Vec<(Option<&'static str>, Value)> {
    let id = format!("resp_{n:04}");
    let item = responses_item(turn, n);
    let base = json!({"id": id, "object": "response", "status": "in_progress", "model": "scripted", "output": []});
    let mut done = base.clone();
    done["status"] = json!("completed");
    done["output"] = json!([item.clone()]);
    done["usage"] = json!({"input_tokens": 100, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 10, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 110});
    let mut ev = vec![
        (
            Some("response.created"),
            json!({"type": "response.created", "response": base}),
        ),
        (
            Some("response.output_item.added"),
            json!({"type": "response.output_item.added", "output_index": 0, "item": item}),
        ),
    ];
    if let Turn::Text(t) = turn {
        ev.push((
            Some("response.output_text.delta"),
            json!({"type": "response.output_text.delta", "item_id": format!("msg_{n:04}"), "output_index": 0, "content_index": 0, "delta": t}),
        ));
    }
    ev.push((
        Some("response.output_item.done"),
        json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
    ));
    ev.push((
        Some("response.completed"),
        json!({"type": "response.completed", "response": done}),
    ));
    ev
}

fn chat_message(turn: &Turn, n: u64) -> Value {
    let msg = match turn {
        Turn::Text(t) => json!({"role": "assistant", "content": t}),
        Turn::Tool { name, input } => json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": format!("call_{n:04}"), "type": "function", "function": {"name": name, "arguments": input.to_string()}}
        ]}),
    };
    json!({
        "id": format!("chatcmpl-{n:04}"), "object": "chat.completion", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "message": msg, "finish_reason": if matches!(turn, Turn::Text(_)) { "stop" } else { "tool_calls" }}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
    })
}

fn chat_chunks(turn: &Turn, n: u64) -> Vec<(Option<&'static str>, Value)> {
    let id = format!("chatcmpl-{n:04}");
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": "scripted",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut out = vec![(
        None,
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
    )];
    match turn {
        Turn::Text(t) => {
            out.push((None, chunk(json!({"content": t}), Value::Null)));
            out.push((None, chunk(json!({}), json!("stop"))));
        }
        Turn::Tool { name, input } => {
            out.push((
                None,
                chunk(
                    json!({"tool_calls": [{"index": 0, "id": format!("call_{n:04}"), "type": "function",
                        "function": {"name": name, "arguments": input.to_string()}}]}),
                    Value::Null,
                ),
            ));
            out.push((None, chunk(json!({}), json!("tool_calls"))));
        }
    }
    let mut done = chunk(json!({}), Value::Null);
    done["choices"] = json!([]);
    done["usage"] = json!({"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110});
    out.push((None, done));
    out
}
