//! CreateTags and DeleteTags on instances and launch templates.

use super::partition::with_partition;
use super::wire::reply;
use crate::ctx::Ctx;
use crate::fleet::Tags;
use crate::protocol::form::Form;
use crate::protocol::{ApiError, Reply};
use crate::world::Partition;

fn tags_of<'a>(p: &'a mut Partition, id: &str) -> Result<&'a mut Tags, ApiError> {
    if id.starts_with("lt-") {
        return p.ec2.launch_templates.get_mut(id).map(|t| &mut t.tags).ok_or_else(|| {
            ApiError::new(400, "InvalidLaunchTemplateId.NotFound", format!("The launch template ID '{id}' does not exist"))
        });
    }
    if id.starts_with("i-") {
        return p
            .ec2
            .instances
            .get_mut(id)
            .map(|i| &mut i.tags)
            .ok_or_else(|| ApiError::new(400, "InvalidInstanceID.NotFound", format!("The instance ID '{id}' does not exist")));
    }
    Err(ApiError::new(400, "InvalidID", format!("The ID '{id}' in ResourceId is not valid")))
}

fn resources(form: &Form) -> Result<Vec<String>, ApiError> {
    let ids = form.list("ResourceId");
    if ids.is_empty() {
        return Err(ApiError::new(400, "MissingParameter", "The request must contain the parameter resourceIdSet"));
    }
    Ok(ids)
}

pub fn create(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let ids = resources(form)?;
    let mut new = Tags::new();
    for n in form.indexed("Tag") {
        let key = form.get(&format!("Tag.{n}.Key")).unwrap_or_default();
        if key.is_empty() || key.len() > 127 || key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::new(400, "InvalidParameterValue", format!("Tag key '{key}' is not valid")));
        }
        new.insert(key.to_owned(), form.get(&format!("Tag.{n}.Value")).unwrap_or_default().to_owned());
    }
    if new.is_empty() {
        return Err(ApiError::new(400, "MissingParameter", "The request must contain the parameter tagSet"));
    }
    with_partition(ctx, |p| {
        for id in &ids {
            tags_of(p, id)?;
        }
        for id in &ids {
            tags_of(p, id)?.extend(new.clone());
        }
        Ok(reply(ctx, "CreateTags", "<return>true</return>"))
    })
}

pub fn delete(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let ids = resources(form)?;
    // A key alone deletes the tag; a key with a value deletes it only when the value matches.
    let doomed: Vec<(String, Option<String>)> = form
        .indexed("Tag")
        .into_iter()
        .filter_map(|n| {
            let key = form.get(&format!("Tag.{n}.Key"))?.to_owned();
            Some((key, form.get(&format!("Tag.{n}.Value")).map(str::to_owned)))
        })
        .collect();
    with_partition(ctx, |p| {
        for id in &ids {
            tags_of(p, id)?;
        }
        for id in &ids {
            let tags = tags_of(p, id)?;
            if doomed.is_empty() {
                tags.clear();
            }
            for (k, v) in &doomed {
                if v.as_ref().is_none_or(|v| tags.get(k) == Some(v)) {
                    tags.remove(k);
                }
            }
        }
        Ok(reply(ctx, "DeleteTags", "<return>true</return>"))
    })
}
