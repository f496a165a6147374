//! The bounded run: every target, a few thousand inputs, no panic, every rejection naming a
//! field; and the corpus itself: every seed is accepted (so that the seeds reach past the
//! first check) and every regression input (`regress-*`) is rejected with a named field.

use super::corpus_dir;
use super::engine::{self, names_field, Corpus};
use super::mutate::Mutant;
use super::targets::{self, Verdict};

const INPUTS: u64 = 3000;

#[test]
fn every_target_survives_a_bounded_run_and_names_the_field_it_refuses() {
    let mut failures = vec![];
    for target in targets::all() {
        let corpus = Corpus::load(&corpus_dir().join(target.name)).expect("the target's corpus loads");
        let t = engine::run(&target, &corpus, 7, INPUTS, 2);
        assert_eq!(t.inputs, INPUTS, "{}", target.name);
        assert!(t.rejects > 0, "{}: the mutations reach no refusal", target.name);
        if t.panics + t.unnamed > 0 {
            failures.push(format!("{}: panics={} unnamed={}", target.name, t.panics, t.unnamed));
            failures.extend(t.findings.iter().map(|f| format!("  #{} {}: {}\n    {}", f.index, f.seed, f.what, f.input)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn seeds_pass_and_regression_inputs_are_refused_with_the_field_named() {
    for target in targets::all() {
        let corpus = Corpus::load(&corpus_dir().join(target.name)).expect("the target's corpus loads");
        for (name, value) in corpus.names.iter().zip(&corpus.values) {
            let input = Mutant { value: value.clone(), text: value.to_string() };
            let mut runner = (target.runner)();
            let verdict = runner(name, &input);
            match (name.starts_with("regress-"), verdict) {
                (false, Verdict::Accepted) => {}
                // A seed request is signed with a made-up signature: it passes every check but the last.
                (false, Verdict::Rejected(e)) if target.name == "sigv4" && e == "Signature: does not match" => {}
                (false, Verdict::Rejected(e)) => panic!("{}/{name}: a seed is refused: {e}", target.name),
                (true, Verdict::Accepted) => panic!("{}/{name}: a regression input is accepted", target.name),
                (true, Verdict::Rejected(e)) => {
                    assert!(names_field(&e, &corpus, &input, &target), "{}/{name}: names no field: {e}", target.name)
                }
            }
        }
    }
}

#[test]
fn the_same_seed_runs_the_same_inputs() {
    let target = targets::all().into_iter().find(|t| t.name == "resource").expect("the resource target");
    let corpus = Corpus::load(&corpus_dir().join(target.name)).expect("the corpus loads");
    let (a, b) = (engine::run(&target, &corpus, 3, 500, 1), engine::run(&target, &corpus, 3, 500, 2));
    assert_eq!((a.rejects, a.panics), (b.rejects, b.panics), "the worker count changes nothing");
}
