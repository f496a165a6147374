//! Objectives and who decided, end to end through the simulator: runs driven as the platform
//! drives them (task tokens, status checks, the simulator's clock moved between them) with
//! TargetRtoMinutes and TargetRpoMinutes on the resource and its waves; what each achieved,
//! met or missed, in the report (S3), the summary sent to the parent and the EMF metrics; a
//! gate's approver and time and each hook decision's component digest in the report; and no
//! secret or task token in any of it.

use crate::common::{emf_fields, resource, rig, rig_configured, shop_parameters, Rig};
use drs_module::config::HookFailure;
use drs_module::objectives::{Judgement, Objectives};
use drs_module::report::{Decision, RunReport};
use serde_json::{json, Value};

struct Ran {
    report: RunReport,
    markdown: String,
    html: String,
    /// The parent's task as the simulator holds it: its output is the summary.
    task: Value,
    metrics: Vec<Value>,
}

impl Ran {
    fn objectives(&self) -> &Objectives {
        self.report.resources[0].objectives.as_ref().expect("the report judges the objectives")
    }

    /// The EMF document of `wave` (None: the resource's) that carries `metric`.
    fn emf(&self, wave: Option<&str>, metric: &str) -> &serde_json::Map<String, Value> {
        self.metrics
            .iter()
            .map(emf_fields)
            .find(|d| d.get("Wave").and_then(Value::as_str) == wave && d.contains_key(metric))
            .unwrap_or_else(|| panic!("no EMF document of {wave:?} with {metric}: {:?}", self.metrics))
    }
}

/// Runs `params` as ShopStack under a parent's token to its end, and reads what it left.
async fn run(r: &Rig, params: Value) -> Result<Ran, drs_module::lifecycle::LifecycleError> {
    let token = r.token().await;
    let done = r.run(&resource("ShopStack", params), "activate", Some(&token)).await?;
    let run = drs_module::recovery::run::of_payload(&r.clients, &done.payload).await.unwrap();
    let execution = run.record.execution.clone();
    Ok(Ran {
        report: serde_json::from_str(&r.report_file("ShopStack", &execution, "json").await).unwrap(),
        markdown: r.report_file("ShopStack", &execution, "md").await,
        html: r.report_file("ShopStack", &execution, "html").await,
        task: r.token_state(&token).await,
        metrics: done.metrics,
    })
}

fn verdicts(o: &Objectives) -> Vec<(String, Judgement, Judgement)> {
    let mut out = vec![("resource".to_owned(), o.rto.verdict, o.rpo.verdict)];
    out.extend(o.waves.iter().map(|w| (w.name.clone(), w.rto.verdict, w.rpo.verdict)));
    out
}

#[tokio::test]
async fn wave_objectives_missed_and_met_reach_the_report_the_parent_and_emf() {
    let r = rig().await;
    // db-01's data lags 250 s (within the selection's maxLagSeconds, over a 3-minute RPO).
    r.control.ok("POST", "servers/db-01", Some(&json!({"lagSeconds": 250}))).await.unwrap();
    let mut params = shop_parameters();
    params["TargetRtoMinutes"] = json!(600);
    params["TargetRpoMinutes"] = json!(3);
    // The databases wave's own RTO (1 minute) cannot be met; applications' own RPO is loose.
    params["Waves"][0]["TargetRtoMinutes"] = json!(1);
    params["Waves"][1]["TargetRpoMinutes"] = json!(120);
    let ran = run(&r, params).await.expect("the drill succeeds: objectives judge, they do not fail a run");
    let o = ran.objectives();
    use Judgement::{Met, Missed};
    assert_eq!(
        verdicts(o),
        [
            ("resource".to_owned(), Met, Missed),
            ("databases".to_owned(), Missed, Missed),
            ("applications".to_owned(), Met, Met),
            ("web".to_owned(), Met, Met),
        ]
    );
    // RTO on the run's clock: from the ledger's start to each wave's end.
    let res = &ran.report.resources[0];
    assert_eq!(o.measured_from, ran.report.started);
    for (w, wave) in o.waves.iter().zip(&res.waves) {
        let expected = (wave.ended.unwrap() - ran.report.started).num_milliseconds() as f64 / 1000.0;
        assert_eq!(w.rto.achieved_seconds, Some(expected), "{}", w.name);
    }
    assert!(o.waves[0].rto.achieved_seconds.unwrap() > 60.0);
    assert_eq!(o.rto.achieved_seconds, o.waves[2].rto.achieved_seconds, "the resource ends with its last wave");
    assert_eq!(o.waves[1].rto.target_minutes, Some(600), "a wave without its own RTO takes the resource's");
    // RPO: db-01's data is its lag older than the run's start (the clock stands between
    // activation and the first wave's StartRecovery, up to the second the ledger keeps).
    let db01 = res.waves[0].servers.iter().find(|s| s.hostname.as_deref() == Some("db-01")).unwrap();
    let age = db01.rpo_s.unwrap();
    assert!((249.0..=250.0).contains(&age), "{age}");
    // The simulator launches the latest point: its replicated data as of the StartRecovery.
    assert_eq!(db01.snapshot, db01.started.map(|t| t - chrono::Duration::seconds(250)));
    assert_eq!((o.rpo.achieved_seconds, o.oldest_data.as_deref()), (Some(age), Some(db01.source_server_id.as_str())));
    assert_eq!(o.rpo.why.as_deref(), Some("missed in wave databases"));
    assert!(o.waves[1].rpo.achieved_seconds.unwrap() < 60.0);
    // The critical path: every wave, in order, each ended by its last launch.
    let path: Vec<&str> = o.critical_path.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(path, ["databases", "applications", "web"]);
    for (step, wave) in o.critical_path.iter().zip(&res.waves) {
        let last = wave.servers.iter().filter_map(|s| s.launched).max();
        assert_eq!(step.launched, last, "{}", step.name);
        assert!(step.job.as_deref().is_some_and(|j| j.starts_with("drsjob-")), "{step:?}");
    }

    // The parent's summary says the same.
    assert_eq!(ran.task["status"], "SUCCEEDED");
    let summary = &ran.task["output"]["objectives"];
    assert_eq!((summary["rtoMissed"].as_bool(), summary["rpoMissed"].as_bool()), (Some(true), Some(true)), "{summary}");
    assert_eq!(summary["rto"]["verdict"], "met");
    assert_eq!(summary["waves"][0]["rto"]["verdict"], "missed");
    assert_eq!(serde_json::from_value::<Objectives>(summary.clone()).unwrap(), *o, "the summary is the report's judgement");

    // EMF: the wave that missed, the one that met, and the resource flagged for the alarms.
    let db = ran.emf(Some("databases"), "RtoObjectiveMissed");
    assert_eq!((db["RtoObjectiveMissed"].as_f64(), db["RpoObjectiveMissed"].as_f64()), (Some(1.0), Some(1.0)));
    let apps = ran.emf(Some("applications"), "RtoObjectiveMissed");
    assert_eq!((apps["RtoObjectiveMissed"].as_f64(), apps["RpoObjectiveMissed"].as_f64()), (Some(0.0), Some(0.0)));
    let whole = ran.emf(None, "RtoObjectiveMissed");
    assert_eq!((whole["Resource"].as_str(), whole["RtoObjectiveMissed"].as_f64()), (Some("ShopStack"), Some(1.0)));
    assert_eq!((whole["RpoObjectiveMissed"].as_f64(), whole["AchievedRpoSeconds"].as_f64()), (Some(1.0), Some(age)));
    assert_eq!(whole["AchievedRtoSeconds"].as_f64(), o.rto.achieved_seconds);

    // The report's readable forms show it.
    for needle in
        ["### Objectives", "| wave 1 (databases) | RTO | 1 min |", "| resource | RPO | 3 min | 4m ", "### Critical path"]
    {
        assert!(ran.markdown.contains(needle), "missing {needle:?} in\n{}", ran.markdown);
    }
    assert!(ran.html.contains("<h3>Objectives</h3>") && ran.html.contains("<span class=\"badge bad\">missed</span>"));
}

#[tokio::test]
async fn a_resource_rto_missed_with_its_rpo_met_and_a_wave_that_met_its_own() {
    let r = rig().await;
    let mut params = shop_parameters();
    params["TargetRtoMinutes"] = json!(1);
    params["TargetRpoMinutes"] = json!(30);
    params["Waves"][2]["TargetRtoMinutes"] = json!(600);
    let ran = run(&r, params).await.unwrap();
    let o = ran.objectives();
    use Judgement::{Met, Missed};
    assert_eq!(
        verdicts(o),
        [
            ("resource".to_owned(), Missed, Met),
            ("databases".to_owned(), Missed, Met),
            ("applications".to_owned(), Missed, Met),
            ("web".to_owned(), Met, Met),
        ]
    );
    let summary = &ran.task["output"]["objectives"];
    assert_eq!((summary["rtoMissed"].as_bool(), summary["rpoMissed"].as_bool()), (Some(true), Some(false)), "{summary}");
    let whole = ran.emf(None, "RtoObjectiveMissed");
    assert_eq!((whole["RtoObjectiveMissed"].as_f64(), whole["RpoObjectiveMissed"].as_f64()), (Some(1.0), Some(0.0)));
    let web = ran.emf(Some("web"), "RtoObjectiveMissed");
    assert_eq!(web["RtoObjectiveMissed"].as_f64(), Some(0.0));

    // Without targets: what was achieved, and no verdict (said so), no flag for the alarms.
    let ran = run(&r, shop_parameters()).await.unwrap();
    let o = ran.objectives();
    assert!(verdicts(o).iter().all(|(_, a, b)| (*a, *b) == (Judgement::NoTarget, Judgement::NoTarget)));
    assert!(o.rto.achieved_seconds.is_some());
    assert!(ran
        .metrics
        .iter()
        .map(emf_fields)
        .all(|d| !d.contains_key("RtoObjectiveMissed") && !d.contains_key("RpoObjectiveMissed")));
    assert!(ran.metrics.iter().map(emf_fields).any(|d| d.contains_key("AchievedRtoSeconds")));
    assert!(ran.markdown.contains("No TargetRtoMinutes or TargetRpoMinutes set"), "{}", ran.markdown);
    assert!(ran.markdown.contains("no target: not judged"));
}

/// Answers every approval gate the run opens as `by` (approving) or rejects it, until stopped.
fn approver(r: &Rig, by: &'static str, reject: Option<&'static str>) -> tokio::task::JoinHandle<Vec<String>> {
    let (control, hub) = (r.control.clone(), r.clients.hub().clone());
    tokio::spawn(async move {
        let sfn = aws_sdk_sfn::Client::new(&hub);
        let mut tokens = vec![];
        loop {
            let open = control.ok("GET", "executions", None).await.unwrap();
            for e in open["executions"].as_array().into_iter().flatten().filter(|e| e["status"] == "RUNNING") {
                let token = e["taskToken"].as_str().unwrap().to_owned();
                // As `drs-orch approve` answers.
                let sent = match reject {
                    None => sfn
                        .send_task_success()
                        .task_token(&token)
                        .output(json!({"approved": true, "by": by}).to_string())
                        .send()
                        .await
                        .is_ok(),
                    Some(why) => sfn
                        .send_task_failure()
                        .task_token(&token)
                        .error("Rejected")
                        .cause(format!("{why} (by {by})"))
                        .send()
                        .await
                        .is_ok(),
                };
                if sent {
                    tokens.push(token);
                    return tokens;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
}

/// Every secret of the rig: the accounts' ExternalIds, the ledger's payload key, the hub's
/// secret key, and the task tokens given.
fn secrets(r: &Rig, tokens: &[String]) -> Vec<String> {
    let cfg = r.clients.config();
    let mut out: Vec<String> = ["200000000001", "200000000002", "200000000003"]
        .iter()
        .map(|a| cfg.external_id_for(a).unwrap().expose().to_owned())
        .collect();
    out.extend(cfg.ledger.payload_key.as_ref().map(|k| k.expose().to_owned()));
    out.push(drs_sim::generate::HUB_SECRET.to_owned());
    out.extend(tokens.iter().cloned());
    out
}

fn leaks<'a>(secrets: &'a [String], texts: &[(&str, String)]) -> Vec<(String, &'a str)> {
    let mut out = vec![];
    for (what, text) in texts {
        for s in secrets.iter().filter(|s| s.len() >= 8) {
            // A secret in full, or a long piece of it.
            if text.contains(s.as_str()) || (s.len() > 40 && text.contains(&s[..32])) {
                out.push((what.to_string(), s.as_str()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_report_names_the_approver_when_and_each_hook_components_digest_and_no_secret() {
    let hooks = crate::hooks::tenant(&[("skip-tagged", "skip_tagged")], HookFailure::FailClosed, None);
    let r = rig_configured(drs_sim::Fleet::demo(), hooks).await;
    let mut params = crate::hooks::with_tenant(shop_parameters(), &["skip-tagged"]);
    params["Waves"][1]["PauseBefore"] = json!("change board sign-off");
    let approving = approver(&r, "alice@example.com <ops>", None);
    let from = r.sim.world.clock.now();
    let parent = r.token().await;
    let token = parent.clone();
    let done = r.run(&resource("ShopStack", params.clone()), "activate", Some(&token)).await.expect("approved, the drill runs");
    let approval_tokens = approving.await.unwrap();
    let run = drs_module::recovery::run::of_payload(&r.clients, &done.payload).await.unwrap();
    let execution = run.record.execution.clone();
    let json = r.report_file("ShopStack", &execution, "json").await;
    let report: RunReport = serde_json::from_str(&json).unwrap();
    let waves = &report.resources[0].waves;

    // Who approved and when, as the approval execution gave them; the run's record keeps it.
    let a = waves[1].approval.as_ref().expect("the gated wave's approval is in the report");
    assert_eq!((a.decision, a.approver.as_deref()), (Decision::Approved, Some("alice@example.com <ops>")));
    let at = a.at.expect("when it was answered");
    assert!(at >= from && at <= report.ended && at <= waves[1].started.unwrap(), "{at}");
    assert!(a.approval.contains(":execution:") && a.approval.ends_with("-wave-1"), "{}", a.approval);
    assert_eq!(run.record.answer(1).and_then(|g| g.approval.as_ref()), Some(a), "the record holds the same");
    assert!(waves[0].approval.is_none() && waves[2].approval.is_none());
    // Each wave's boundary with the digest of the component that decided.
    let (_, sha256) = crate::hooks::guest("skip_tagged");
    for w in waves {
        assert_eq!(w.components.get("skip-tagged"), Some(&sha256), "{}", w.name);
    }
    let md = r.report_file("ShopStack", &execution, "md").await;
    let html = r.report_file("ShopStack", &execution, "html").await;
    assert!(md.contains("| skip-tagged | before-wave | skip |") && md.contains(&sha256), "{md}");
    // The approver's text is outside text: escaped in both.
    assert!(md.contains(r"| wave 2 (applications) | approved | alice@example.com \<ops\> |"), "{md}");
    assert!(html.contains("<td>alice@example.com &lt;ops&gt;</td>") && !html.contains("<ops>"));

    // No secret and no task token in the report, the summary or the metrics.
    let mut tokens = approval_tokens;
    tokens.push(parent.clone());
    let secrets = secrets(&r, &tokens);
    assert!(secrets.len() >= 6, "{}", secrets.len());
    let summary = r.token_state(&parent).await["output"].to_string();
    let metrics = serde_json::to_string(&done.metrics).unwrap();
    let texts = [("report.json", json), ("report.md", md), ("report.html", html), ("summary", summary), ("metrics", metrics)];
    assert_eq!(leaks(&secrets, &texts), vec![]);

    // A rejection: who rejected, when, and why, in the failed run's report.
    let rejecting = approver(&r, "bob", Some("not tonight"));
    let token = r.token().await;
    let e = r.run(&resource("ShopStack", params), "activate", Some(&token)).await.unwrap_err();
    assert_eq!(e.code, "ApprovalRejected", "{}", e.message);
    rejecting.await.unwrap();
    let listed = r.s3().list_objects_v2().bucket("drs-orch-reports").prefix("runs/ShopStack/").send().await.unwrap();
    let other = listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .find(|k| k.ends_with("report.json") && !k.contains(&execution))
        .expect("the rejected run's report")
        .to_owned();
    let got = r.s3().get_object().bucket("drs-orch-reports").key(&other).send().await.unwrap();
    let rejected: RunReport = serde_json::from_slice(&got.body.collect().await.unwrap().into_bytes()).unwrap();
    let a = rejected.resources[0].waves[1].approval.as_ref().expect("the rejection is in the report");
    assert_eq!((a.decision, a.approver.as_deref(), a.reason.as_deref()), (Decision::Rejected, Some("bob"), Some("not tonight")));
    let o = rejected.resources[0].objectives.as_ref().unwrap();
    assert_eq!(o.rto.verdict, Judgement::NoTarget, "no target, no verdict, even for a failed run");
    assert_eq!(o.rto.achieved_seconds, None);
}
