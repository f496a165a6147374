//! `bench sim`: how many DescribeSourceServers pages a second the simulator serves.
//! One signed request (a SigV4 signature stays valid for 15 minutes, as on AWS) is replayed
//! over several keep-alive connections, so the figure is the simulator's, not a client's
//! deserialization. The official SDK's rate over the same server is printed beside it.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use drs_sim::generate::{self, Spec};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

#[derive(clap::Args)]
pub struct Args {
    /// Seconds each measurement runs.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Servers per page (maxResults); the service's default page is 100.
    #[arg(long, default_value_t = 100)]
    page: usize,
}

const ACCOUNT: &str = "200000000001";
const REGION: &str = "us-east-1";

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut fleet = generate::fleet(&Spec { servers: 1000.max(args.page), accounts: 1, regions: 1 })?;
    fleet.clock.speed = 0.0;
    let sim = drs_sim::start(fleet, 0).await?;
    let creds = assume_target(&sim.endpoint).await?;
    let body = format!("{{\"maxResults\":{}}}", args.page);
    let request = signed_request(&sim.endpoint, &creds, &body)?;

    let client: Client<_, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(args.connections).build_http();
    let deadline = Duration::from_secs_f64(args.seconds);
    let pages = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..args.connections {
        let (client, request, pages) = (client.clone(), request.clone(), pages.clone());
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < deadline {
                let res = client.request(request.clone().map(Full::new)).await?;
                let status = res.status();
                let body = res.into_body().collect().await?.to_bytes();
                anyhow::ensure!(status == 200, "status {status}: {}", String::from_utf8_lossy(&body));
                pages.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let raw_rate = pages.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();

    let sdk_rate = sdk_rate(&sim.endpoint, creds, &args).await?;
    println!(
        "bench sim: pages_per_s={raw_rate:.0} servers_per_page={} sdk_pages_per_s={sdk_rate:.0} connections={} seconds={} goal_pages_per_s=2000",
        args.page, args.connections, args.seconds
    );
    Ok(())
}

async fn assume_target(endpoint: &str) -> anyhow::Result<Credentials> {
    let hub = Credentials::new(generate::HUB_ACCESS_KEY, generate::HUB_SECRET, None, None, "bench-hub");
    let sts = aws_sdk_sts::Client::new(&config(endpoint, hub));
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{}", generate::TARGET_ROLE))
        .role_session_name("bench-sim")
        .external_id(generate::external_id(ACCOUNT))
        .send()
        .await?;
    let c = out.credentials().ok_or_else(|| anyhow::anyhow!("AssumeRole returned no credentials"))?;
    Ok(Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_owned()), None, "bench"))
}

fn config(endpoint: &str, creds: Credentials) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build()
}

/// A DescribeSourceServers request signed the way the SDK signs it.
fn signed_request(endpoint: &str, creds: &Credentials, body: &str) -> anyhow::Result<http::Request<Bytes>> {
    let uri = format!("{endpoint}/DescribeSourceServers");
    let host = endpoint.trim_start_matches("http://").to_owned();
    let mut req = http::Request::builder()
        .method("POST")
        .uri(&uri)
        .header("host", &host)
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_owned()))?;
    let identity: Identity = creds.clone().into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("drs")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()?
        .into();
    let headers: Vec<(String, String)> =
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
    let signable = SignableRequest::new(
        "POST",
        &uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )?;
    let (instructions, _) = sign(signable, &params)?.into_parts();
    instructions.apply_to_request_http1x(&mut req);
    Ok(req)
}

async fn sdk_rate(endpoint: &str, creds: Credentials, args: &Args) -> anyhow::Result<f64> {
    let drs = aws_sdk_drs::Client::new(&config(endpoint, creds));
    let pages = Arc::new(AtomicU64::new(0));
    let deadline = Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..args.connections {
        let (drs, pages, page) = (drs.clone(), pages.clone(), args.page as i32);
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < deadline {
                let out = drs.describe_source_servers().max_results(page).send().await?;
                anyhow::ensure!(out.items().len() == page as usize, "short page: {}", out.items().len());
                pages.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(pages.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
