//! A tenant member's role changed in place on the tenant's page: each row has a role select and
//! Save; the page then says what changed. The last administrator cannot be demoted.

use crate::helpers::{TestApp, client, create_tenant, invite_and_accept, spawn_app};

/// The id in a member row's `data-member` attribute for the person named `name`.
fn member_id(page: &str, name: &str) -> String {
    let at = page.find(&format!("<td>{name}</td>")).expect("member row");
    let marker = "data-member=\"";
    let start = page[..at].rfind(marker).unwrap() + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn an_administrator_changes_a_members_role_in_place_but_not_the_last_administrators() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let acme = create_tenant(&app, "Acme").await;
    let erin = TestApp::with_client(&app, client());
    let email = format!("erin-{}@example.com", uuid::Uuid::new_v4().simple());
    assert_eq!(erin.sign_up(&email, "Erin", "correct horse battery").await.status(), 303);
    invite_and_accept(&app, &acme, &erin, &email, "viewer").await;

    let path = format!("/admin/tenants/{acme}");
    let page = app.get_html(&path).await;
    let erin_id = member_id(&page, "Erin");
    let action = format!("{path}/members/{erin_id}/role");
    assert!(page.contains(&format!("action=\"{action}\"")));
    assert!(page.contains(&format!("id=\"role-{erin_id}\" name=\"role\"")));
    assert!(page.contains(&format!("id=\"role-save-{erin_id}\">Save</button>")));

    let res = app.post_form(&path, &action, &[("role", "editor")]).await;
    assert_eq!(res.status(), 303);
    let page = app.get_html(&path).await;
    assert!(page.contains("id=\"flash\">Erin is now editor.</p>"), "{page}");
    let row = page.split(&format!("data-member=\"{erin_id}\"")).nth(1).unwrap();
    let row = row.split("</tr>").next().unwrap();
    assert!(row.contains("value=\"editor\" selected"), "{row}");

    // The only administrator demoting themselves is refused, and stays an administrator.
    let admin_id = page
        .split("data-member=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().to_owned())
        .find(|id| *id != erin_id)
        .unwrap();
    let action = format!("{path}/members/{admin_id}/role");
    let res = app.post_form(&path, &action, &[("role", "viewer")]).await;
    assert_eq!(res.status(), 409);
    let refused = res.text().await.unwrap();
    assert!(refused.contains("id=\"tenants-error\""), "{refused}");
    let page = app.get_html(&path).await;
    let row = page.split(&format!("data-member=\"{admin_id}\"")).nth(1).unwrap();
    let row = row.split("</tr>").next().unwrap();
    assert!(row.contains("value=\"admin\" selected"), "{row}");
    assert!(!page.contains("id=\"flash\""));
}
