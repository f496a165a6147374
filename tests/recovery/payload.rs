//! The lifecycle payload of a 5,000-server plan stays under Step Functions' 256 KiB.

use crate::common::{resource, rig_with};
use drs_module::driver::event;
use drs_module::lifecycle::{handle, MAX_PAYLOAD};
use drs_module::recovery::payload::Payload;
use serde_json::json;

#[tokio::test]
async fn a_5000_server_plan_fits_in_the_payload() {
    let fleet = drs_sim::generate::fleet(&drs_sim::generate::Spec { servers: 5000, accounts: 3, regions: 2 }).unwrap();
    let r = rig_with(fleet).await;
    let params = json!({"Tags": {"Wave": ["1", "2", "3"]}, "Waves": {"ByTag": "Wave"}, "Selection": {"onNotReady": "skip"}});
    let answer = handle(&r.clients, &event(&resource("Everything", params), "activate", None)).await.expect("activate");
    let size = answer.to_string().len();
    let payload = Payload::parse(&answer).unwrap();
    println!("payload: {} servers in {} waves, {size} bytes", payload.server_count(), payload.waves.len());
    assert!(payload.server_count() > 4500, "{} servers", payload.server_count());
    assert!(size < MAX_PAYLOAD, "{size} bytes");
}
