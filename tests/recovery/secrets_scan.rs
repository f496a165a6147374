//! Secrets never print, end to end: `drs-orch drill` runs against a simulator this test
//! holds (the CLI's `--aws` path, its credentials from the environment, its configuration
//! read from an SSM SecureString as the Lambda reads it), with every log level on; then its
//! output and logs, its reports, the lifecycle's EMF lines and errors and the simulator's
//! call log are scanned for every secret the fleet holds: the ExternalIds, the hub's secret
//! key, every secret key and session token the simulator issued, and every task token.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use drs_module::config::source::ConfigSource;
use drs_sim::client::Control;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const CONFIG_PARAMETER: &str = "/drs-orch/scan-config";

fn hub_sdk(sim: &drs_sim::SimServer) -> SdkConfig {
    let h = &sim.world.hub;
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(h.region.clone()))
        .endpoint_url(&sim.endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            &h.access_key_id,
            &h.secret_access_key,
            None,
            None,
            "scan",
        )))
        .build()
}

/// Every file's text under `dir`, by path.
fn files(dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p.display().to_string(), String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
}

/// Answers every approval gate the run opens (the approvers' part), until stopped.
fn approver(control: Control, hub: SdkConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let sfn = aws_sdk_sfn::Client::new(&hub);
        loop {
            let open = control.ok("GET", "executions", None).await.unwrap();
            for e in open["executions"].as_array().into_iter().flatten().filter(|e| e["status"] == "RUNNING") {
                let token = e["taskToken"].as_str().unwrap();
                let _ = sfn.send_task_success().task_token(token).output("{\"approved\":true}").send().await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_of_a_whole_drill_holds_a_secret() {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let control = Control::new(&sim.endpoint);
    // Real waits of one second each move ten simulated minutes.
    control.ok("POST", "clock", Some(&json!({"speed": 600}))).await.unwrap();
    let hub = hub_sdk(&sim);

    // The configuration (an ExternalId value on one account) lives in an SSM SecureString.
    let mut cfg: Value = serde_json::from_str(drs_module::config::DEMO).unwrap();
    cfg["hub"]["endpointUrl"] = sim.endpoint.clone().into();
    let mut fleet_roles = sim.world.roles.read().clone();
    let special = format!("scan-special-{}", drs_sim::ids::secret(24));
    cfg["accounts"][2]["externalId"] = json!({"value": special});
    // The key that signs the lifecycle payload: a secret of its own.
    let payload_key = format!("scan-payload-key-{}", drs_sim::ids::secret(32));
    cfg["ledger"]["payloadKey"] = json!(payload_key);
    for r in fleet_roles.iter_mut().filter(|r| r.account_id == "200000000003" && r.external_id.is_some()) {
        r.external_id = Some(special.clone());
    }
    *sim.world.roles.write() = fleet_roles;
    control
        .ok("POST", "parameters", Some(&json!({"name": CONFIG_PARAMETER, "value": cfg.to_string(), "type": "SecureString"})))
        .await
        .unwrap();
    let read = ConfigSource::parse_reference(&format!("ssm:{CONFIG_PARAMETER}")).unwrap().load(&hub).await.unwrap();
    let dir = std::env::temp_dir().join(format!("drs-orch-secrets-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, cfg.to_string()).unwrap();

    let approving = approver(control.clone(), hub.clone());
    let h = &sim.world.hub;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_drs-orch"))
        .current_dir(std::env::current_dir().unwrap())
        .args(["drill", "manifests/demo-drill.json", "--aws", "--approve", "wait", "--poll-seconds", "1", "--config"])
        .arg(&config_path)
        .arg("--report-dir")
        .arg(dir.join("reports"))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", &h.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &h.secret_access_key)
        .env("AWS_REGION", &h.region)
        .env("RUST_LOG", "trace")
        .output();
    let out = tokio::time::timeout(Duration::from_secs(600), out).await.expect("the drill ends").unwrap();
    approving.abort();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "drill failed:\n{stdout}\n{}", stderr.lines().rev().take(40).collect::<Vec<_>>().join("\n"));

    let mut texts: Vec<(String, String)> = vec![("stdout".into(), stdout), ("stderr".into(), stderr)];
    files(&dir.join("reports"), &mut texts);
    assert!(texts.iter().any(|(p, _)| p.ends_with("report.json")), "the drill wrote its report");

    // The Lambda's path: the lifecycle's EMF lines and error for an event the platform sends
    // answer), and a refused event that carries the platform's task token (its error).
    let token = control.ok("POST", "tokens", Some(&json!({"timeoutSeconds": 600}))).await.unwrap()["taskToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let clients = drs_module::aws::Clients::new(std::sync::Arc::new(read.clone()), hub.clone(), "scan");
    let bad = json!({"action": "DRS", "phase": "activate", "TaskToken": token,
                     "resourceName": "Scan", "parameters": {"Mode": "not-a-mode"}});
    let refused = drs_module::lifecycle::handle_detailed(&clients, &bad).await.unwrap_err();
    texts.push(("lambda error".into(), format!("{} {} {refused:?}", refused.code.as_str(), refused.message)));
    texts.extend(refused.metrics.iter().map(|m| ("EMF".to_owned(), m.to_string())));
    texts.push(("config debug".into(), format!("{read:?} {}", serde_json::to_string(&read).unwrap())));

    let calls = control.ok("GET", "calls", None).await.unwrap();
    assert!(calls["calls"].as_array().is_some_and(|c| c.iter().any(|c| c["operation"] == "GetParameter")));
    texts.push(("/_sim/calls".into(), calls.to_string()));
    let ledger = control.ok("GET", "tables/drs-orch-runs", None).await.unwrap();
    assert!(ledger["items"].as_array().is_some_and(|i| !i.is_empty()), "the drill's runs are in the ledger");
    texts.push(("the run ledger".into(), ledger.to_string()));

    // Every secret the fleet holds, by kind; each kind must be there for the scan to mean anything.
    let mut external_ids: Vec<String> =
        read.accounts.iter().map(|a| read.external_id_for(&a.account_id).unwrap().expose().to_owned()).collect();
    external_ids.extend(sim.world.roles.read().iter().filter_map(|r| r.external_id.clone()));
    assert!(external_ids.contains(&special) && external_ids.len() >= 3, "{}", external_ids.len());
    let keys = sim.world.identities.secrets();
    assert!(keys.len() > 3, "the simulator issued session credentials: {}", keys.len());
    let task_tokens: Vec<String> = sim
        .world
        .tokens
        .executions(sim.world.clock.now())
        .iter()
        .filter_map(|e| e["taskToken"].as_str().map(str::to_owned))
        .chain(Some(token))
        .collect();
    assert!(task_tokens.len() >= 2, "approval gates ran: {task_tokens:?}");

    let payload_keys = vec![payload_key];
    for (kind, secrets) in [
        ("ExternalId", &external_ids),
        ("key or session token", &keys),
        ("task token", &task_tokens),
        ("payload key", &payload_keys),
    ] {
        for secret in secrets {
            for (place, text) in &texts {
                if let Some(at) = text.find(secret.as_str()) {
                    // The context, with the secret itself masked: the failure must not print it either.
                    // The line's start (which says who wrote it) and the secret's surroundings, masked.
                    let line = text[..at].rfind('\n').map_or(0, |n| n + 1);
                    let head: String = text[line..].chars().take(160).collect();
                    let near = at.saturating_sub(120).max(line);
                    let around = text[near..(at + secret.len() + 40).min(text.len())]
                        .replace(secret.as_str(), &drs_sim::calls::mask(secret));
                    panic!(
                        "a {kind} appears in full in {place}: {}... ...{around}...",
                        head.replace(secret.as_str(), "<secret>")
                    );
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_configuration_in_a_plain_string_parameter_is_refused_without_its_value() {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let control = Control::new(&sim.endpoint);
    let secret = format!("plain-{}", drs_sim::ids::secret(24));
    let mut cfg: Value = serde_json::from_str(drs_module::config::DEMO).unwrap();
    cfg["externalId"] = json!({"value": secret});
    for (name, kind) in [("/drs-orch/plain", "String"), ("/drs-orch/secure", "SecureString")] {
        let body = json!({"name": name, "value": cfg.to_string(), "type": kind});
        control.ok("POST", "parameters", Some(&body)).await.unwrap();
    }
    let hub = hub_sdk(&sim);
    let e = ConfigSource::parse_reference("ssm:/drs-orch/plain").unwrap().load(&hub).await.unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(text.contains("/drs-orch/plain") && text.contains("String") && text.contains("SecureString"), "{text}");
    assert!(!text.contains(&secret), "the value is not shown: {text}");
    ConfigSource::parse_reference("ssm:/drs-orch/secure").unwrap().load(&hub).await.expect("a SecureString is read");
}
