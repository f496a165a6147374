//! The forecast instantiate gives: before any run, every server at the default job time;
//! after a drill, from the DRS job history, equal to what the drill took on the run's clock;
//! with one partition's job history unreadable, that partition named and its servers back at
//! the default, the others still from their history.

use crate::common::{resource, rig, shop_parameters, POLL_S};
use drs_module::discovery::discover;
use drs_module::driver::event;
use drs_module::forecast::{of_plan, Assumptions};
use drs_module::lifecycle::handle_detailed;
use drs_module::plan::plan_one;
use drs_module::resource::DrsResource;
use serde_json::{json, Value};

async fn forecast(r: &crate::common::Rig, shop: &Value) -> Value {
    let answer = handle_detailed(&r.clients, &event(shop, "instantiate", None)).await.expect("instantiate answers").answer;
    answer["forecast"].clone()
}

#[tokio::test]
async fn instantiate_forecasts_a_drill_from_the_job_history_of_the_last_one() {
    let r = rig().await;
    let shop = resource("ShopStack", shop_parameters());

    let before = forecast(&r, &shop).await;
    let default = (r.clients.config().forecast.default_job_minutes * 60) as f64;
    assert_eq!((before["fromHistory"].as_u64(), before["defaulted"].as_u64()), (Some(0), Some(60)), "{before}");
    // Three waves of one round of jobs each, every job the default long, each wave seen done
    // at the first check after it.
    let wave = (default / POLL_S as f64).ceil() * POLL_S as f64;
    assert_eq!(before["runSeconds"].as_f64(), Some(3.0 * wave), "{before}");

    let token = r.token().await;
    let run = r.run(&shop, "activate", Some(&token)).await.expect("the drill succeeds");
    let actual = (run.checks as u64 * POLL_S) as f64;
    // Drills are not back to back: the next one is forecast an hour later.
    r.control.advance(3600.0).await.unwrap();

    let after = forecast(&r, &shop).await;
    assert_eq!((after["fromHistory"].as_u64(), after["defaulted"].as_u64()), (Some(60), Some(0)), "{after}");
    assert_eq!(after["runSeconds"].as_f64(), Some(actual), "forecast {after} against {} checks", run.checks);
    let waves: Vec<&str> = after["waves"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(waves, ["databases", "applications", "web"]);

    // One partition's job history cannot be read (as `plan` reads it: instantiate's
    // preflight would stop at that partition's failing probe first): named, its servers at the default.
    let faults = json!({"outages": [{"account": "200000000002", "region": "us-west-2", "service": "drs",
                                     "operation": "DescribeJobs", "status": 503}]});
    let res = DrsResource::from_value(&shop).unwrap();
    let found = discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    let plan = plan_one(&res, &found, &r.clients.config().quotas);
    r.control.ok("PUT", "faults", Some(&faults)).await.unwrap();
    let assume = Assumptions::from(&r.clients.config().forecast);
    let partial = serde_json::to_value(&of_plan(&r.clients, &plan, &[&res], assume).await[0]).unwrap();
    r.control.ok("PUT", "faults", Some(&json!({}))).await.unwrap();
    let unread = partial["unread"].as_array().unwrap();
    assert_eq!(unread.len(), 1, "{partial}");
    assert!(unread[0].as_str().unwrap().starts_with("200000000002/us-west-2: "), "{partial}");
    assert_eq!((partial["fromHistory"].as_u64(), partial["defaulted"].as_u64()), (Some(50), Some(10)), "{partial}");
    assert!(partial["runSeconds"].as_f64().unwrap() > after["runSeconds"].as_f64().unwrap(), "{partial}");
}
