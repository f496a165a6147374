//! ProjectionExpression (and ReturnValues UPDATED_OLD / UPDATED_NEW, which project the paths
//! an update touched): a copy of the item holding only the values at the given paths, with
//! the maps and lists around them; list elements keep their order, without the gaps.

use super::document::{self, Path, PathStep};
use super::value::{Item, Value};
use std::collections::BTreeMap;

enum Node {
    Leaf(Value),
    Map(BTreeMap<String, Node>),
    List(BTreeMap<usize, Node>),
}

pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut root: BTreeMap<String, Node> = BTreeMap::new();
    for path in paths {
        if let Some(value) = document::get(item, path) {
            insert(&mut root, &path.steps, value);
        }
    }
    root.into_iter().map(|(k, node)| (k, node.into_value())).collect()
}

fn insert(root: &mut BTreeMap<String, Node>, steps: &[PathStep], value: &Value) {
    let Some((PathStep::Key(first), rest)) = steps.split_first() else { return };
    let Some((last, middle)) = rest.split_last() else {
        root.insert(first.clone(), Node::Leaf(value.clone()));
        return;
    };
    let mut node = root.entry(first.clone()).or_insert_with(|| container_for(rest.first()));
    for (i, step) in middle.iter().enumerate() {
        let next = middle.get(i + 1).unwrap_or(last);
        node = match (step, node) {
            (PathStep::Key(k), Node::Map(m)) => m.entry(k.clone()).or_insert_with(|| container_for(Some(next))),
            (PathStep::Index(n), Node::List(l)) => l.entry(*n).or_insert_with(|| container_for(Some(next))),
            // Paths that do not overlap never meet a leaf; a value is there or it is not.
            _ => return,
        };
    }
    match (last, node) {
        (PathStep::Key(k), Node::Map(m)) => {
            m.insert(k.clone(), Node::Leaf(value.clone()));
        }
        (PathStep::Index(n), Node::List(l)) => {
            l.insert(*n, Node::Leaf(value.clone()));
        }
        _ => {}
    }
}

/// The container a step reaches into: a map for a name, a list for an index.
fn container_for(step: Option<&PathStep>) -> Node {
    match step {
        Some(PathStep::Index(_)) => Node::List(BTreeMap::new()),
        _ => Node::Map(BTreeMap::new()),
    }
}

impl Node {
    fn into_value(self) -> Value {
        match self {
            Node::Leaf(v) => v,
            Node::Map(m) => Value::M(m.into_iter().map(|(k, n)| (k, n.into_value())).collect()),
            Node::List(l) => Value::L(l.into_values().map(Node::into_value).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::expr::parser::parse_projection;
    use crate::dynamodb::expr::Substitutions;
    use crate::dynamodb::value::item_from_wire;
    use serde_json::json;

    #[test]
    fn keeps_only_the_paths_with_their_parents() {
        let item = item_from_wire(
            serde_json::from_value(json!({
                "pk": {"S": "a"}, "other": {"S": "x"},
                "m": {"M": {"keep": {"N": "1"}, "drop": {"N": "2"}, "l": {"L": [{"S": "0"}, {"S": "1"}, {"S": "2"}]}}}
            }))
            .unwrap(),
        )
        .unwrap();
        let mut subs = Substitutions::default();
        let paths = parse_projection("pk, m.keep, m.l[2], m.l[0], nothing.here", &mut subs).unwrap();
        let projected = serde_json::to_value(project(&item, &paths)).unwrap();
        assert_eq!(projected, json!({"pk": {"S": "a"}, "m": {"M": {"keep": {"N": "1"}, "l": {"L": [{"S": "0"}, {"S": "2"}]}}}}));
    }
}
