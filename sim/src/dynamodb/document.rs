//! Document paths (`a.b[2].c`) and what an expression does with them: read the value at a
//! path, set it or remove it, with DynamoDB's refusal when the path's parent does not exist
//! or is not a map (for a name) or a list (for an index).

use super::error::DdbError;
use super::value::{Item, Value};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// A path from a top-level attribute down: its first step is always a name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path {
    pub steps: Vec<PathStep>,
}

impl Path {
    pub fn attribute(name: &str) -> Path {
        Path { steps: vec![PathStep::Key(name.to_owned())] }
    }

    /// The top-level attribute the path starts at.
    pub fn top(&self) -> &str {
        match self.steps.first() {
            Some(PathStep::Key(k)) => k,
            _ => "",
        }
    }

    /// True when one path is the other or lies inside it (`a` and `a.b`).
    pub fn overlaps(&self, other: &Path) -> bool {
        let common = self.steps.len().min(other.steps.len());
        self.steps[..common] == other.steps[..common]
    }
}

impl fmt::Display for Path {
    /// As DynamoDB's messages list a path: `a, b, [2]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .steps
            .iter()
            .map(|s| match s {
                PathStep::Key(k) => k.clone(),
                PathStep::Index(i) => format!("[{i}]"),
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// DynamoDB's refusal of a path an update cannot reach, naming the path (`; document path:
/// [w, x]`, which DynamoDB's message does not).
fn invalid_for_update(path: &Path) -> DdbError {
    DdbError::Validation(format!(
        "The document path provided in the update expression is invalid for update; document path: [{path}]"
    ))
}

/// The value at `path`, if the item has one there.
pub fn get<'a>(item: &'a Item, path: &Path) -> Option<&'a Value> {
    let (first, rest) = path.steps.split_first()?;
    let PathStep::Key(name) = first else { return None };
    rest.iter().try_fold(item.get(name)?, |value, step| match (step, value) {
        (PathStep::Key(k), Value::M(map)) => map.get(k),
        (PathStep::Index(i), Value::L(list)) => list.get(*i),
        _ => None,
    })
}

/// The value holding the path's last step: it must exist for an update to reach inside it.
fn parent_mut<'a>(item: &'a mut Item, steps: &[PathStep]) -> Option<&'a mut Value> {
    let Some((PathStep::Key(name), rest)) = steps.split_first() else { return None };
    let mut value = item.get_mut(name)?;
    for step in rest {
        value = match (step, value) {
            (PathStep::Key(k), Value::M(map)) => map.get_mut(k),
            (PathStep::Index(i), Value::L(list)) => list.get_mut(*i),
            _ => None,
        }?;
    }
    Some(value)
}

/// Sets the value at `path`; an index past a list's end appends, as DynamoDB does.
pub fn set(item: &mut Item, path: &Path, value: Value) -> Result<(), DdbError> {
    let Some((last, parents)) = path.steps.split_last() else { return Err(invalid_for_update(path)) };
    if parents.is_empty() {
        item.insert(path.top().to_owned(), value);
        return Ok(());
    }
    match (last, parent_mut(item, parents).ok_or_else(|| invalid_for_update(path))?) {
        (PathStep::Key(k), Value::M(map)) => {
            map.insert(k.clone(), value);
        }
        (PathStep::Index(i), Value::L(list)) if *i < list.len() => list[*i] = value,
        (PathStep::Index(_), Value::L(list)) => list.push(value),
        _ => return Err(invalid_for_update(path)),
    }
    Ok(())
}

/// Removes the value at `path`; nothing there is no error, a missing parent is.
pub fn remove(item: &mut Item, path: &Path) -> Result<(), DdbError> {
    let Some((last, parents)) = path.steps.split_last() else { return Err(invalid_for_update(path)) };
    if parents.is_empty() {
        item.remove(path.top());
        return Ok(());
    }
    match (last, parent_mut(item, parents).ok_or_else(|| invalid_for_update(path))?) {
        (PathStep::Key(k), Value::M(map)) => {
            map.remove(k);
        }
        (PathStep::Index(i), Value::L(list)) => {
            if *i < list.len() {
                list.remove(*i);
            }
        }
        _ => return Err(invalid_for_update(path)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(steps: &[PathStep]) -> Path {
        Path { steps: steps.to_vec() }
    }

    fn key(k: &str) -> PathStep {
        PathStep::Key(k.into())
    }

    #[test]
    fn sets_inside_existing_maps_and_lists_only() {
        let mut item = Item::new();
        item.insert("m".into(), Value::M(Default::default()));
        item.insert("l".into(), Value::L(vec![Value::Null]));
        set(&mut item, &path(&[key("m"), key("x")]), Value::Bool(true)).unwrap();
        assert_eq!(get(&item, &path(&[key("m"), key("x")])), Some(&Value::Bool(true)));
        set(&mut item, &path(&[key("l"), PathStep::Index(9)]), Value::Bool(false)).unwrap();
        assert_eq!(get(&item, &path(&[key("l"), PathStep::Index(1)])), Some(&Value::Bool(false)), "appended");
        let missing = set(&mut item, &path(&[key("w"), key("x")]), Value::Null).unwrap_err();
        assert!(missing.to_string().ends_with("invalid for update; document path: [w, x]"), "{missing}");
        assert!(set(&mut item, &path(&[key("l"), key("x")]), Value::Null).is_err(), "a name inside a list");
    }

    #[test]
    fn removes_and_overlaps() {
        let mut item = Item::new();
        item.insert("l".into(), Value::L(vec![Value::Null, Value::Bool(true)]));
        remove(&mut item, &path(&[key("l"), PathStep::Index(0)])).unwrap();
        assert_eq!(item["l"], Value::L(vec![Value::Bool(true)]));
        remove(&mut item, &path(&[key("l"), PathStep::Index(7)])).unwrap();
        assert!(remove(&mut item, &path(&[key("nope"), key("x")])).is_err());
        assert!(path(&[key("a")]).overlaps(&path(&[key("a"), key("b")])));
        assert!(!path(&[key("a"), key("c")]).overlaps(&path(&[key("a"), key("b")])));
        assert_eq!(path(&[key("a"), PathStep::Index(2)]).to_string(), "a, [2]");
    }
}
