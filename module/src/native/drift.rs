//! A native plan as DRS has it against what it should be: each difference as drift a reader
//! can act on, and the edits that bring the plan in line with the fewest calls. Steps are
//! matched by name (a plan's step names are unique): a matched step whose configuration
//! differs is updated, one whose type differs is replaced, an unmatched one deleted, a missing
//! one appended; the steps are reordered when their order is not the wanted one. Only the
//! module's own tags are compared: tags others add are theirs.

use super::layout::{DesiredPlan, DesiredStep, StepKind};
use super::remote::{RemoteKind, RemotePlan, RemoteStep};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Drift {
    /// The plan does not exist.
    Missing,
    Description {
        have: Option<String>,
    },
    Tag {
        key: String,
        want: String,
        have: Option<String>,
    },
    /// A step the plan should have and lacks.
    StepMissing {
        step: String,
    },
    /// A step the plan has and should not.
    StepExtra {
        step: String,
    },
    /// A step of the wanted name whose configuration differs.
    StepChanged {
        step: String,
        what: String,
    },
    /// The steps are all there, in another order.
    Order {
        have: Vec<String>,
        want: Vec<String>,
    },
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing => write!(f, "the plan does not exist"),
            Drift::Description { .. } => write!(f, "its description was changed"),
            Drift::Tag { key, want, have: Some(h) } => write!(f, "tag {key} is {h} (want {want})"),
            Drift::Tag { key, want, have: None } => write!(f, "tag {key} is missing (want {want})"),
            Drift::StepMissing { step } => write!(f, "step '{step}' is missing"),
            Drift::StepExtra { step } => write!(f, "step '{step}' is not the module's"),
            Drift::StepChanged { step, what } => write!(f, "step '{step}': {what}"),
            Drift::Order { have, want } => write!(f, "steps in the order {} (want {})", have.join(", "), want.join(", ")),
        }
    }
}

/// What brings the plan's steps in line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepEdits {
    /// Steps to delete (ARN, name): not wanted, or of another type than the wanted step of
    /// their name.
    pub delete: Vec<(String, String)>,
    /// Steps to update (ARN, wanted index).
    pub update: Vec<(String, usize)>,
    /// Wanted steps to create, in order (appended).
    pub create: Vec<usize>,
    /// The steps kept (updated or not): (wanted index, ARN), for the reorder.
    pub kept: Vec<(usize, String)>,
    /// After the edits, whether the steps must be reordered.
    pub reorder: bool,
}

impl StepEdits {
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.update.is_empty() && self.create.is_empty() && !self.reorder
    }
}

/// The plan's drift and the edits of its steps.
pub fn compare(want: &DesiredPlan, have: &RemotePlan) -> (Vec<Drift>, StepEdits) {
    let mut drifts = vec![];
    if have.description.as_deref() != Some(want.description.as_str()) {
        drifts.push(Drift::Description { have: have.description.clone() });
    }
    for (k, v) in &want.tags {
        if have.tags.get(k) != Some(v) {
            drifts.push(Drift::Tag { key: k.clone(), want: v.clone(), have: have.tags.get(k).cloned() });
        }
    }
    let (step_drifts, edits) = steps(&want.steps, &have.steps);
    drifts.extend(step_drifts);
    (drifts, edits)
}

fn steps(want: &[DesiredStep], have: &[RemoteStep]) -> (Vec<Drift>, StepEdits) {
    let (mut drifts, mut edits) = (vec![], StepEdits::default());
    // The wanted index each remote step is kept as (None: deleted).
    let mut kept: Vec<Option<usize>> = vec![None; have.len()];
    for (i, w) in want.iter().enumerate() {
        let Some(j) = (0..have.len()).find(|j| kept[*j].is_none() && have[*j].name == w.name) else {
            drifts.push(Drift::StepMissing { step: w.name.clone() });
            edits.create.push(i);
            continue;
        };
        match changed(&w.kind, &have[j].kind) {
            Change::Same => {
                kept[j] = Some(i);
                edits.kept.push((i, have[j].arn.clone()));
            }
            Change::Config(what) => {
                drifts.push(Drift::StepChanged { step: w.name.clone(), what });
                edits.update.push((have[j].arn.clone(), i));
                edits.kept.push((i, have[j].arn.clone()));
                kept[j] = Some(i);
            }
            Change::Type(what) => {
                drifts.push(Drift::StepChanged { step: w.name.clone(), what });
                edits.delete.push((have[j].arn.clone(), have[j].name.clone()));
                edits.create.push(i);
                // Matched, so not deleted a second time as extra.
                kept[j] = Some(usize::MAX);
            }
        }
    }
    for (j, s) in have.iter().enumerate().filter(|(j, _)| kept[*j].is_none()) {
        drifts.push(Drift::StepExtra { step: s.name.clone() });
        edits.delete.push((have[j].arn.clone(), s.name.clone()));
    }
    // After the edits: the kept steps in their order, then those created.
    let order: Vec<usize> =
        kept.iter().flatten().copied().filter(|i| *i != usize::MAX).chain(edits.create.iter().copied()).collect();
    edits.reorder = order.iter().enumerate().any(|(k, i)| k != *i);
    let kept_in_order: Vec<usize> = kept.iter().flatten().copied().filter(|i| *i != usize::MAX).collect();
    if kept_in_order.windows(2).any(|w| w[0] > w[1]) {
        let names = |idx: &[usize]| idx.iter().map(|i| want[*i].name.clone()).collect::<Vec<_>>();
        let mut sorted = kept_in_order.clone();
        sorted.sort_unstable();
        drifts.push(Drift::Order { have: names(&kept_in_order), want: names(&sorted) });
    }
    (drifts, edits)
}

enum Change {
    Same,
    /// Its servers or wait differ: an update.
    Config(String),
    /// Its type differs: a new step.
    Type(String),
}

fn changed(want: &StepKind, have: &RemoteKind) -> Change {
    match (want, have) {
        (StepKind::Wait { minutes }, RemoteKind::Wait(m)) if i64::from(*minutes) == i64::from(*m) => Change::Same,
        (StepKind::Wait { minutes }, RemoteKind::Wait(m)) => Change::Config(format!("waits {m} minutes (want {minutes})")),
        (StepKind::Servers { servers }, RemoteKind::Servers(have)) => {
            let want: BTreeMap<&str, (bool, &str)> =
                servers.iter().map(|s| (s.arn.as_str(), (s.critical, s.hostname.as_str()))).collect();
            let have: BTreeMap<&str, bool> = have.iter().map(|(a, c)| (a.as_str(), *c)).collect();
            let label = |arn: &str| {
                want.get(arn)
                    .map(|(_, h)| *h)
                    .filter(|h| !h.is_empty())
                    .map_or_else(|| arn.rsplit('/').next().unwrap_or(arn).to_owned(), str::to_owned)
            };
            let added: Vec<String> = want.keys().filter(|a| !have.contains_key(*a)).map(|a| label(a)).collect();
            let removed: Vec<String> = have.keys().filter(|a| !want.contains_key(*a)).map(|a| label(a)).collect();
            let impact: Vec<String> = want
                .iter()
                .filter(|(a, (c, _))| have.get(*a).is_some_and(|h| h != c))
                .map(|(a, (c, _))| format!("{} {}", label(a), if *c { "CRITICAL" } else { "OPTIONAL" }))
                .collect();
            let mut what = vec![];
            if !added.is_empty() {
                what.push(format!("lacks {}", added.join(", ")));
            }
            if !removed.is_empty() {
                what.push(format!("has {} too", removed.join(", ")));
            }
            if !impact.is_empty() {
                what.push(format!("should have {}", impact.join(", ")));
            }
            match what.is_empty() {
                true => Change::Same,
                false => Change::Config(what.join("; ")),
            }
        }
        (StepKind::Wait { .. }, _) => Change::Type("is a server step (want a wait step)".into()),
        (StepKind::Servers { .. }, _) => Change::Type("is a wait step (want a server step)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::layout::StepServer;
    use super::*;

    fn server(id: &str) -> StepServer {
        StepServer {
            arn: format!("arn:aws:drs:us-east-1:1:source-server/{id}"),
            source_server_id: id.into(),
            hostname: id.into(),
            critical: true,
        }
    }

    fn want(name: &str, ids: &[&str]) -> DesiredStep {
        DesiredStep {
            name: name.into(),
            wave: name.into(),
            kind: StepKind::Servers { servers: ids.iter().map(|i| server(i)).collect() },
        }
    }

    fn have(name: &str, ids: &[&str]) -> RemoteStep {
        RemoteStep {
            arn: format!("arn:{name}"),
            name: name.into(),
            kind: RemoteKind::Servers(ids.iter().map(|i| (server(i).arn, true)).collect()),
        }
    }

    #[test]
    fn steps_in_line_need_nothing() {
        let (d, e) = steps(&[want("db", &["a"]), want("app", &["b"])], &[have("db", &["a"]), have("app", &["b"])]);
        assert!(d.is_empty() && e.is_empty(), "{d:?} {e:?}");
    }

    #[test]
    fn a_changed_step_is_updated_an_extra_deleted_a_missing_one_appended_and_the_order_restored() {
        let wanted = [want("db", &["a"]), want("app", &["b"]), want("web", &["c"])];
        let (d, e) = steps(&wanted, &[have("app", &["b", "x"]), have("hand-made", &["z"]), have("db", &["a"])]);
        let text: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "step 'app': has x too",
                "step 'web' is missing",
                "step 'hand-made' is not the module's",
                "steps in the order app, db (want db, app)"
            ]
        );
        assert_eq!(e.update, [("arn:app".to_owned(), 1)]);
        assert_eq!(e.delete, [("arn:hand-made".to_owned(), "hand-made".to_owned())]);
        assert_eq!(e.create, [2]);
        assert!(e.reorder);
    }

    #[test]
    fn a_step_of_another_type_is_replaced() {
        let wait = DesiredStep { name: "pause".into(), wave: "web".into(), kind: StepKind::Wait { minutes: 30 } };
        let (d, e) = steps(&[wait], &[have("pause", &["a"])]);
        assert_eq!(d[0].to_string(), "step 'pause': is a server step (want a wait step)");
        assert_eq!((e.delete.len(), e.create.clone(), e.reorder), (1, vec![0], false));
    }
}
