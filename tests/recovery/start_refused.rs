//! StartRecovery refused in one account (its target role lost the permission after the run
//! was planned): that account's servers of the wave are given up, named with the refusal, and
//! the wave's FailurePolicy judges them; the other accounts' servers of the same check start,
//! each once. The refusal is the account's own, not the whole run's status check failing.

use crate::common::{launches_per_server, resource, rig, shop_parameters};

#[tokio::test]
async fn a_refused_start_in_one_account_gives_up_its_servers_and_the_others_start() {
    let r = rig().await;
    for role in r.sim.world.roles.write().iter_mut().filter(|x| x.account_id == "200000000002" && x.role_name.contains("target"))
    {
        role.denied_actions = vec!["drs:StartRecovery".into()];
    }
    let e = r.run(&resource("ShopStack", shop_parameters()), "activate", None).await.unwrap_err();
    assert_eq!(e.code.as_str(), "WaveFailed", "{}", e.message);
    assert!(e.message.contains("200000000002") && e.message.contains("AccessDenied"), "{}", e.message);
    let jobs = r.all_jobs().await;
    let launched = launches_per_server(&jobs);
    assert!(!launched.is_empty(), "the other accounts' databases started");
    assert!(launched.values().all(|n| *n == 1), "{launched:?}");
    assert!(jobs.iter().all(|(p, _)| !p.starts_with("200000000002")), "nothing started in the refused account");
    let partitions: std::collections::BTreeSet<&str> = jobs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(partitions.len(), 4, "both regions of the two other accounts started their databases: {partitions:?}");
}
