//! IAM's wildcard matching: `*` for any run of characters, `?` for one. Actions match
//! case-insensitively (`ec2:terminateinstances` is `ec2:TerminateInstances`); ARNs match
//! segment by segment, so a wildcard in the region or account never reaches past its colon.

/// Whether `text` matches `pattern` (`*` any run, `?` one character).
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        if ignore_case {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, t) = (fold(pattern), fold(text));
    // Iterative matching with one backtrack point: the last `*` and where it started eating.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// An action pattern (`ec2:*`, `drs:Describe*`, `*`) against an action.
pub fn action(pattern: &str, action: &str) -> bool {
    glob(pattern, action, true)
}

/// A resource pattern against a resource: `*` matches every resource (the `*` of actions
/// without resource-level permissions too); an ARN pattern matches an ARN segment by segment
/// (partition, service, region, account, then the resource with its colons and slashes). A
/// pattern of fewer segments (`arn:aws:ec2:*`) lets its last segment cover the rest.
pub fn arn(pattern: &str, resource: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if !pattern.starts_with("arn:") || !resource.starts_with("arn:") {
        return glob(pattern, resource, false);
    }
    let wanted: Vec<&str> = pattern.splitn(6, ':').collect();
    let have: Vec<&str> = resource.splitn(wanted.len(), ':').collect();
    have.len() == wanted.len() && wanted.iter().zip(&have).all(|(p, r)| glob(p, r, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_runs_and_single_characters() {
        assert!(glob("a*c", "abbbc", false));
        assert!(glob("a*c", "ac", false));
        assert!(glob("a?c", "abc", false) && !glob("a?c", "ac", false));
        assert!(glob("*", "", false) && glob("**", "x", false));
        assert!(!glob("abc", "abcd", false) && !glob("abcd", "abc", false));
        assert!(glob("*x*y", "axbxcy", false));
        assert!(!glob("A", "a", false) && glob("A", "a", true));
    }

    #[test]
    fn actions_match_case_insensitively_with_wildcards() {
        assert!(action("ec2:*", "ec2:TerminateInstances"));
        assert!(action("EC2:terminateinstances", "ec2:TerminateInstances"));
        assert!(action("drs:Describe*", "drs:DescribeJobs") && !action("drs:Describe*", "drs:StartRecovery"));
        assert!(action("*", "sts:AssumeRole"));
        assert!(!action("ec2:Terminate", "ec2:TerminateInstances"));
    }

    #[test]
    fn arns_match_segment_by_segment() {
        let instance = "arn:aws:ec2:us-east-1:200000000001:instance/i-0abc";
        assert!(arn("*", instance) && arn("*", "*"));
        assert!(arn("arn:aws:ec2:*:200000000001:instance/*", instance));
        assert!(!arn("arn:aws:ec2:*:200000000002:instance/*", instance));
        assert!(!arn("arn:aws:ec2:*:200000000001:volume/*", instance));
        // A wildcard region does not reach into the account; a short pattern's last segment does.
        assert!(!arn("arn:aws:ec2:*:instance/*", instance));
        assert!(arn("arn:aws:ec2:*", instance) && arn("arn:*", instance) && !arn("arn:aws:s3:*", instance));
        // An ARN pattern never matches the `*` of an action without resource-level permissions.
        assert!(!arn("arn:aws:ec2:*:*:instance/*", "*"));
        // The resource segment keeps its colons.
        let exec = "arn:aws:states:us-east-1:100000000000:execution:drs-orch-approval:run-1";
        assert!(arn("arn:aws:states:us-east-1:100000000000:execution:drs-orch-approval:*", exec));
        assert!(!arn("arn:aws:states:us-east-1:100000000000:execution:other:*", exec));
    }
}
