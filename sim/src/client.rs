//! A small client for the control endpoint (`/_sim/...`), for tests and the CLI.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

#[derive(Clone)]
pub struct Control {
    endpoint: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl Control {
    pub fn new(endpoint: &str) -> Control {
        Control {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends `method /_sim/<path>` with an optional JSON body; returns the status and JSON reply.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<(u16, Value)> {
        let req = http::Request::builder()
            .method(method)
            .uri(format!("{}/_sim/{}", self.endpoint, path.trim_start_matches('/')))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.map(|b| b.to_string()).unwrap_or_default())))?;
        let res = self.client.request(req).await?;
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await?.to_bytes();
        let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes)? };
        Ok((status, value))
    }

    /// Like `call`, but a status other than 2xx is an error naming it.
    pub async fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let (status, value) = self.call(method, path, body).await?;
        anyhow::ensure!((200..300).contains(&status), "{method} /_sim/{path} answered {status}: {value}");
        Ok(value)
    }

    pub async fn advance(&self, seconds: f64) -> anyhow::Result<Value> {
        self.ok("POST", "clock", Some(&serde_json::json!({ "advanceSeconds": seconds }))).await
    }

    pub async fn calls(&self) -> anyhow::Result<Vec<Value>> {
        let v = self.ok("GET", "calls", None).await?;
        Ok(v["calls"].as_array().cloned().unwrap_or_default())
    }
}
