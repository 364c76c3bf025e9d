//! Scoped roles. An assignment is `{role_id, resource?, resource_instance?}`: without a resource
//! it holds system-wide in the tenant; with one (`dataset` + a UUID) it holds for that single
//! resource. Resource types are strings downstream services define; Portcullis stores, issues and
//! checks their shape, and ships no resource model of its own. No roles at all means full access.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};

/// The roles Portcullis knows.
pub const ROLE_IDS: [&str; 3] = ["admin", "editor", "viewer"];

/// One role assignment (the API and storage shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleAssignment {
    /// `admin`, `editor` or `viewer`.
    pub role_id: String,
    /// A resource type, e.g. `dataset`; absent for a system-wide role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The resource's UUID; present exactly when `resource` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_instance: Option<String>,
}

/// A role as a token claim carries it (`roles: [{"role","resource","resource_instance"}]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleClaim {
    /// The role.
    pub role: String,
    /// Resource type, or null for system-wide.
    pub resource: Option<String>,
    /// Resource UUID, or null.
    pub resource_instance: Option<String>,
}

impl From<&RoleAssignment> for RoleClaim {
    fn from(r: &RoleAssignment) -> Self {
        Self {
            role: r.role_id.clone(),
            resource: r.resource.clone(),
            resource_instance: r.resource_instance.clone(),
        }
    }
}

impl RoleAssignment {
    /// Checks the role and the shape of its resource; normalises the UUID.
    pub fn validate(mut self) -> Result<Self> {
        if !ROLE_IDS.contains(&self.role_id.as_str()) {
            return Err(AppError::validation(
                "roles",
                format!(
                    "Unknown role {:?}: use admin, editor or viewer.",
                    self.role_id
                ),
            ));
        }
        match (&self.resource, &self.resource_instance) {
            (None, None) => {}
            (Some(resource), Some(instance)) => {
                if !is_resource_type(resource) {
                    return Err(AppError::validation(
                        "roles",
                        format!(
                            "Bad resource type {resource:?}: use lowercase letters, digits, - and _."
                        ),
                    ));
                }
                let uuid = uuid::Uuid::try_parse(instance).map_err(|_| {
                    AppError::validation(
                        "roles",
                        format!("resource_instance {instance:?} is not a UUID."),
                    )
                })?;
                self.resource_instance = Some(uuid.hyphenated().to_string());
            }
            _ => {
                return Err(AppError::validation(
                    "roles",
                    "resource and resource_instance go together.",
                ));
            }
        }
        Ok(self)
    }

    /// The context the assignment lives in: `system` or `<resource>:<uuid>`.
    pub fn context(&self) -> String {
        match (&self.resource, &self.resource_instance) {
            (Some(r), Some(i)) => format!("{r}:{i}"),
            _ => "system".into(),
        }
    }
}

fn is_resource_type(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Parses a `roles_context`: `system` or `<resource>:<uuid>`, normalised.
pub fn parse_context(raw: &str) -> Result<String> {
    let bad = || {
        AppError::validation(
            "roles_context",
            "Use `system` or `<resource>:<uuid>`, e.g. dataset:c1a7cb60-1731-4c0f-b966-165263c30896.",
        )
    };
    if raw == "system" {
        return Ok(raw.to_owned());
    }
    let (resource, instance) = raw.split_once(':').ok_or_else(bad)?;
    let uuid = uuid::Uuid::try_parse(instance).map_err(|_| bad())?;
    if !is_resource_type(resource) {
        return Err(bad());
    }
    Ok(format!("{resource}:{}", uuid.hyphenated()))
}

/// What a person picked on a form: some roles, or explicitly full access. No roles at all means
/// full access (seed 001), so a page never lets an empty choice mean it by accident: it takes
/// the explicit box, and refuses roles and full access together.
pub fn choose(picked: Vec<RoleAssignment>, full_access: bool) -> Result<Vec<RoleAssignment>> {
    match (picked.is_empty(), full_access) {
        (true, false) => Err(AppError::validation(
            "roles",
            "Pick at least one role, or tick Full access.",
        )),
        (false, true) => Err(AppError::validation(
            "full_access",
            "Full access means no roles: untick the roles, or untick Full access.",
        )),
        _ => validate_all(picked),
    }
}

/// Validates a whole list of assignments (duplicates collapse).
pub fn validate_all(roles: Vec<RoleAssignment>) -> Result<Vec<RoleAssignment>> {
    let mut out: Vec<RoleAssignment> = Vec::with_capacity(roles.len());
    for r in roles {
        let r = r.validate()?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

/// Seed 001's update rule. Without a context, the new list replaces the old one, and roles that
/// are absent (or null) leave no roles: full access. With a context, only that context's roles
/// are replaced (by the new list, or by nothing), every new role must belong to it, and roles in
/// other contexts stay.
pub fn apply_update(
    old: &[RoleAssignment],
    new: Option<Vec<RoleAssignment>>,
    context: Option<&str>,
) -> Result<Vec<RoleAssignment>> {
    let new = validate_all(new.unwrap_or_default())?;
    let Some(raw) = context else { return Ok(new) };
    let context = parse_context(raw)?;
    if let Some(stray) = new.iter().find(|r| r.context() != context) {
        return Err(AppError::validation(
            "roles",
            format!(
                "Role {} is in context {}, not {context}.",
                stray.role_id,
                stray.context()
            ),
        ));
    }
    let mut kept: Vec<RoleAssignment> = old
        .iter()
        .filter(|r| r.context() != context)
        .cloned()
        .collect();
    kept.extend(new);
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DS: &str = "c1a7cb60-1731-4c0f-b966-165263c30896";

    fn role(id: &str, ds: Option<&str>) -> RoleAssignment {
        RoleAssignment {
            role_id: id.into(),
            resource: ds.map(|_| "dataset".into()),
            resource_instance: ds.map(Into::into),
        }
    }

    #[test]
    fn absent_roles_mean_full_access_even_after_roles() {
        let old = vec![role("admin", None)];
        assert!(apply_update(&old, None, None).unwrap().is_empty());
    }

    #[test]
    fn a_context_limits_the_update_to_itself() {
        let old = vec![role("admin", None), role("editor", Some(DS))];
        let updated = apply_update(
            &old,
            Some(vec![role("viewer", Some(DS))]),
            Some(&format!("dataset:{DS}")),
        )
        .unwrap();
        assert_eq!(updated, vec![role("admin", None), role("viewer", Some(DS))]);
        let cleared = apply_update(&old, None, Some("system")).unwrap();
        assert_eq!(cleared, vec![role("editor", Some(DS))]);
    }

    #[test]
    fn roles_outside_the_context_are_refused() {
        let err = apply_update(
            &[],
            Some(vec![role("admin", None)]),
            Some(&format!("dataset:{DS}")),
        )
        .unwrap_err();
        assert!(matches!(err, AppError::Validation { field: "roles", .. }));
    }

    #[test]
    fn bad_roles_and_contexts_are_refused() {
        assert!(role("owner", None).validate().is_err());
        let mut half = role("admin", None);
        half.resource = Some("dataset".into());
        assert!(half.validate().is_err());
        let mut bad_uuid = role("admin", Some(DS));
        bad_uuid.resource_instance = Some("not-a-uuid".into());
        assert!(bad_uuid.validate().is_err());
        for bad in [
            "",
            "dataset",
            "dataset:123",
            "Data Set:c1a7cb60-1731-4c0f-b966-165263c30896",
        ] {
            assert!(parse_context(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_context(&format!("dataset:{}", DS.to_uppercase())).unwrap(),
            format!("dataset:{DS}")
        );
    }
}
