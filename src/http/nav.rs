//! The header's navigation: three groups (Account · Developer · Administration), each a
//! disclosure menu that works without JavaScript, with the current page marked
//! (`aria-current="page"`) and its group highlighted. What a person sees depends only on what
//! they may open; the pages themselves still ask the policy.

/// One link.
pub struct NavItem {
    /// Where it leads.
    pub href: &'static str,
    /// Its text.
    pub label: &'static str,
    /// The page being shown.
    pub current: bool,
}

/// One group of links.
pub struct NavGroup {
    /// The group's name.
    pub label: &'static str,
    /// Its links.
    pub items: Vec<NavItem>,
    /// Whether the current page is among them.
    pub current: bool,
}

/// Whether `path` is the page `href` names or one below it (`/settings/apps/x` is under
/// Developer apps).
fn is_current(path: &str, href: &str) -> bool {
    path == href
        || path
            .strip_prefix(href)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn group(label: &'static str, path: &str, links: &[(&'static str, &'static str)]) -> NavGroup {
    let items: Vec<NavItem> = links
        .iter()
        .map(|&(href, label)| NavItem {
            href,
            label,
            current: is_current(path, href),
        })
        .collect();
    NavGroup {
        label,
        current: items.iter().any(|i| i.current),
        items,
    }
}

/// The groups for a signed-in person at `path`.
pub fn groups(path: &str, server_admin: bool, tenant_admin: bool) -> Vec<NavGroup> {
    let mut out = vec![
        group(
            "Account",
            path,
            &[
                ("/account", "Overview"),
                ("/settings/email", "Email"),
                ("/settings/password", "Password"),
                ("/settings/security", "Two-step sign-in"),
                ("/settings/passkeys", "Passkeys"),
                ("/settings/sessions", "Sessions"),
                ("/settings/authorized-apps", "Authorized apps"),
                ("/settings/security-log", "Security log"),
            ],
        ),
        group(
            "Developer",
            path,
            &[
                ("/settings/credentials", "Credentials"),
                ("/settings/apps", "Developer apps"),
                ("/api/v1/docs", "API reference"),
            ],
        ),
    ];
    let mut admin: Vec<(&'static str, &'static str)> = Vec::new();
    if server_admin {
        admin.extend([("/admin/users", "Users"), ("/admin/apps", "Apps")]);
    }
    if server_admin || tenant_admin {
        admin.push(("/admin/tenants", "Tenants"));
    }
    if tenant_admin {
        admin.extend([
            ("/admin/system-credentials", "System credentials"),
            ("/admin/credentials", "Member credentials"),
        ]);
    }
    if server_admin {
        admin.push(("/admin/audit-log", "Audit log"));
    }
    if !admin.is_empty() {
        out.push(group("Administration", path, &admin));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_page_and_its_group_are_marked_and_only_one_link_is() {
        let g = groups("/settings/apps/abc", false, false);
        let marked: Vec<&str> = g
            .iter()
            .flat_map(|g| g.items.iter())
            .filter(|i| i.current)
            .map(|i| i.href)
            .collect();
        assert_eq!(marked, ["/settings/apps"]);
        assert!(g[1].current && !g[0].current);
        assert!(!is_current("/settings/apps-other", "/settings/apps"));
    }

    #[test]
    fn administration_appears_only_for_administrators() {
        assert_eq!(groups("/", false, false).len(), 2);
        let tenant = groups("/", false, true);
        let hrefs: Vec<&str> = tenant[2].items.iter().map(|i| i.href).collect();
        assert!(hrefs.contains(&"/admin/system-credentials") && !hrefs.contains(&"/admin/users"));
        let server = groups("/", true, false);
        let hrefs: Vec<&str> = server[2].items.iter().map(|i| i.href).collect();
        assert!(hrefs.contains(&"/admin/users") && !hrefs.contains(&"/admin/credentials"));
    }
}
