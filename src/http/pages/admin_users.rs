//! Admin → Users: every account, searched and a page at a time, with what a server
//! administrator does to one — disable or enable, sign out everywhere, grant or revoke
//! administrator rights, and delete after typing the person's email address
//! (`domain::user_admin`, `domain::account_removal`). Every form is CSRF-protected; the domain
//! refuses everyone but server administrators, and refuses them their own account.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use super::see_other;
use super::settings::date;
use crate::domain::account_removal;
use crate::domain::context::Actor;
use crate::domain::people::Person;
use crate::domain::user_admin::{self, Listed};
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::layout::flash;
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

const USERS: &str = "/admin/users";

/// One account as the page shows it.
pub struct UserRow {
    id: String,
    name: String,
    email: String,
    email_verified: bool,
    is_admin: bool,
    active: bool,
    created: String,
    last_sign_in: Option<String>,
    is_me: bool,
}

/// `templates/admin_users.html`.
#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    layout: Layout,
    people: Vec<UserRow>,
    query: String,
    page: u64,
    total: u64,
    previous: Option<String>,
    next: Option<String>,
    second_factor_required: bool,
}

/// `?q=&page=`.
#[derive(Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<u64>,
}

fn page_link(query: &str, page: u64) -> String {
    let mut link = url::form_urlencoded::Serializer::new(String::new());
    if !query.is_empty() {
        link.append_pair("q", query);
    }
    link.append_pair("page", &page.to_string());
    format!("{USERS}?{}", link.finish())
}

/// `GET /admin/users`
pub async fn users_get(
    current: CurrentUser,
    query: web::Query<UsersQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let by = Actor::User(&current.user);
    let found = user_admin::search(&state.ctx, by, &query.q, query.page.unwrap_or(1)).await?;
    let q = query.q.trim().to_owned();
    let me = current.user.id.clone();
    let people = found
        .people
        .into_iter()
        .map(|Listed { user, last_sign_in }| UserRow {
            active: user.is_active(),
            created: date(user.created_at),
            last_sign_in: last_sign_in.map(date),
            is_me: user.id == me,
            id: user.id,
            name: user.name,
            email: user.email,
            email_verified: user.email_verified,
            is_admin: user.is_admin,
        })
        .collect();
    let page = UsersPage {
        layout: current.layout,
        people,
        previous: (found.page > 1).then(|| page_link(&q, found.page - 1)),
        next: found.has_next.then(|| page_link(&q, found.page + 1)),
        query: q,
        page: found.page,
        total: found.total,
        second_factor_required: found.second_factor_required,
    };
    Ok(html(StatusCode::OK, &page)?)
}

/// `GET /admin/people`: the page's old address, for links and bookmarks (308 keeps the method).
pub async fn people_get(_: CurrentUser) -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((LOCATION, USERS))
        .finish()
}

/// `POST /admin/users/{user_id}/disable`
pub async fn disable_post(
    _: CsrfForm<super::EmptyForm>,
    user_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    user_admin::disable(&state.ctx, Actor::User(&current.user), Person::Id(&user_id)).await?;
    flash(&session, "Account disabled.")?;
    Ok(see_other(USERS))
}

/// `POST /admin/users/{user_id}/enable`
pub async fn enable_post(
    _: CsrfForm<super::EmptyForm>,
    user_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    user_admin::enable(&state.ctx, Actor::User(&current.user), Person::Id(&user_id)).await?;
    flash(&session, "Account enabled.")?;
    Ok(see_other(USERS))
}

/// `POST /admin/users/{user_id}/sign-out`: ends every browser session and session token.
pub async fn sign_out_post(
    _: CsrfForm<super::EmptyForm>,
    user_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    user_admin::sign_out(&state.ctx, Actor::User(&current.user), Person::Id(&user_id)).await?;
    flash(&session, "Signed out everywhere.")?;
    Ok(see_other(USERS))
}

/// The administrator form: `admin` is `true` or `false`.
#[derive(Deserialize)]
pub struct AdminForm {
    #[serde(default)]
    admin: String,
}

/// `POST /admin/users/{user_id}/admin`: grants or revokes administrator rights.
pub async fn admin_post(
    CsrfForm(form): CsrfForm<AdminForm>,
    user_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    // Anything but `true` revokes: the safe reading of a bad form.
    let grant = form.admin == "true";
    let by = Actor::User(&current.user);
    user_admin::set_admin(&state.ctx, by, Person::Id(&user_id), grant).await?;
    flash(&session, "Administrator rights saved.")?;
    Ok(see_other(USERS))
}

/// `templates/admin_user_delete.html`.
#[derive(Template)]
#[template(path = "admin_user_delete.html")]
pub struct DeletePage {
    layout: Layout,
    id: String,
    name: String,
    email: String,
    error: Option<String>,
}

/// `GET /admin/users/{user_id}/delete`: asks for the person's email address.
pub async fn delete_get(
    user_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let by = Actor::User(&current.user);
    let user = user_admin::find_for_action(&state.ctx, by, Person::Id(&user_id)).await?;
    let page = DeletePage {
        layout: current.layout,
        id: user.id,
        name: user.name,
        email: user.email,
        error: None,
    };
    Ok(html(StatusCode::OK, &page)?)
}

/// The delete form: the person's email address, typed.
#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm_email: String,
}

/// `POST /admin/users/{user_id}/delete`: the form again with the reason when refused (422 for
/// a mistyped address, 409 for the last administrator of a tenant).
pub async fn delete_post(
    CsrfForm(form): CsrfForm<DeleteForm>,
    user_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    let by = Actor::User(&current.user);
    let who = Person::Id(&user_id);
    let status = match account_removal::delete(&state.ctx, by, who, &form.confirm_email).await {
        Ok(()) => {
            flash(&session, "Account deleted.")?;
            return Ok(see_other(USERS));
        }
        Err(e @ AppError::Validation { .. }) => (StatusCode::UNPROCESSABLE_ENTITY, e),
        Err(e @ AppError::Conflict(_)) => (StatusCode::CONFLICT, e),
        Err(other) => return Err(other.into()),
    };
    let user = user_admin::find_for_action(&state.ctx, by, who).await?;
    let page = DeletePage {
        layout: current.layout,
        id: user.id,
        name: user.name,
        email: user.email,
        error: Some(status.1.to_string()),
    };
    Ok(html(status.0, &page)?)
}
