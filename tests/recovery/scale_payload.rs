//! A plan too large for Step Functions' 256 KiB is refused before anything starts, and the
//! packed payload holds a 15,000-server plan with AWS's hexadecimal ids.

use crate::common::{resource, rig_with};
use drs_module::driver::event;
use drs_module::error::ErrorCode;
use drs_module::lifecycle::{handle, MAX_PAYLOAD};
use drs_module::recovery::payload::Payload;
use drs_sim::generate::{fleet, Spec};
use serde_json::{json, Value};

fn everything() -> Value {
    resource(
        "Everything",
        json!({"Tags": {"Wave": ["1", "2", "3"]}, "Waves": {"ByTag": "Wave"}, "Selection": {"onNotReady": "skip"}}),
    )
}

#[tokio::test]
async fn a_plan_over_the_limit_is_refused_before_any_start_recovery() {
    // The simulator's own ids are alphanumeric: 17 bytes a server, 16,000 of them over 256 KiB.
    let r = rig_with(fleet(&Spec { servers: 16_000, accounts: 3, regions: 2 }).unwrap()).await;
    let err = handle(&r.clients, &event(&everything(), "activate", None)).await.expect_err("too large");
    assert_eq!(err.code, ErrorCode::PayloadTooLarge, "{err}");
    assert!(err.message.contains("16000 servers") && err.message.contains("nothing was started"), "{err}");
    let writes: Vec<Value> = r
        .control
        .calls()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c["service"] == "drs" || c["service"] == "ec2")
        .filter(|c| !["Describe", "List", "Get"].iter().any(|read| c["operation"].as_str().unwrap_or("").starts_with(read)))
        .collect();
    assert!(writes.is_empty(), "no DRS or EC2 write before the refusal: {writes:?}");
    assert!(r.start_recoveries().await.is_empty());
}

#[tokio::test]
async fn a_15000_server_plan_with_hexadecimal_ids_fits_and_starts() {
    let mut f = fleet(&Spec { servers: 15_000, accounts: 3, regions: 2 }).unwrap();
    for (i, s) in f.servers.iter_mut().enumerate() {
        s.source_server_id = Some(format!("s-{:017x}", 0x3b9_4010_0000_0000_u64 + i as u64 * 104_729));
    }
    let r = rig_with(f).await;
    let answer = handle(&r.clients, &event(&everything(), "activate", None)).await.expect("activate");
    let size = answer.to_string().len();
    let payload = Payload::parse(&answer).unwrap();
    let servers = payload.server_count();
    println!("payload: {servers} servers, {size} bytes, {:.1} a server", size as f64 / servers as f64);
    assert!(servers > 14_000, "{servers} servers");
    assert!(size < MAX_PAYLOAD, "{size} bytes");
    assert!(!r.start_recoveries().await.is_empty(), "the first wave started");
}
