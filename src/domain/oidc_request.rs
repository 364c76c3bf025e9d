//! OpenID Connect's interaction parameters of the authorization request (Core §3.1.2.1):
//! `prompt`, `max_age` and `login_hint`, and what they decide for a request that passed
//! `domain::oauth::validate`: send the person to sign in (again), show the consent page, issue a
//! code, or, under `prompt=none`, tell the client which interaction was needed (Core §3.1.2.6).
//! Also Core §11's rule on refresh tokens for OpenID requests. Nothing here reads HTTP: the
//! browser session comes in as `SignedIn`, and the handler renders the `Step`.

use crate::domain::auth_methods::ACR_MULTI;
use crate::domain::bounded;
use crate::domain::consent;
use crate::domain::context::Context;
use crate::domain::factors;
use crate::domain::oauth::{AuthorizeParams, ClientReply, ValidAuthorize};
use crate::domain::oidc::is_openid;
use crate::domain::scope::ScopeSet;
use crate::error::Result;

/// The `prompt` values understood here, as discovery publishes them.
pub const PROMPT_VALUES: &[&str] = &["none", "login", "consent", "select_account"];

/// The scope that asks for refresh tokens on an OpenID request (Core §11).
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The request's `prompt` values (Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// No page may be shown; an error says what would have been needed.
    pub none: bool,
    /// Sign in again, even with a live session.
    pub login: bool,
    /// Show the consent page, even when consent is remembered.
    pub consent: bool,
    /// Let the person choose the account: here, sign in again (possibly as someone else).
    pub select_account: bool,
}

impl Prompt {
    /// Reads the space-separated list. `none` with any other value is refused ("If this
    /// parameter contains none with any other value, an error is returned"); a value not
    /// understood is ignored, as Core §3.1.2.1 (errata set 2) allows and recommends so that
    /// extensions can be phased in.
    pub fn parse(raw: Option<&str>) -> Result<Self, &'static str> {
        let mut p = Self::default();
        let mut unknown = false;
        for word in raw.unwrap_or_default().split(' ').filter(|w| !w.is_empty()) {
            match word {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                "select_account" => p.select_account = true,
                _ => unknown = true,
            }
        }
        if p.none && (unknown || p.login || p.consent || p.select_account) {
            return Err("prompt=none may not be combined with other values.");
        }
        Ok(p)
    }
}

/// What the request says about the people-facing side of the flow.
#[derive(Debug, Clone, Default)]
pub struct Interaction {
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age`: the oldest sign-in accepted, in seconds.
    pub max_age: Option<i64>,
    /// `login_hint`, when short enough to be an email address; only ever shown back in the
    /// sign-in page's email field, never trusted.
    pub login_hint: Option<String>,
    /// `acr_values` names `ACR_MULTI`: the request wants a multi-factor sign-in.
    pub multi_factor: bool,
}

/// Reads `prompt`, `max_age` and `login_hint`; an error is the `invalid_request` description.
/// Empty values count as absent (RFC 6749 §3.1).
pub fn read(p: &AuthorizeParams) -> Result<Interaction, &'static str> {
    Ok(Interaction {
        prompt: Prompt::parse(p.prompt.as_deref())?,
        max_age: max_age(p.max_age.as_deref())?,
        login_hint: p
            .login_hint
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty() && h.len() <= bounded::EMAIL)
            .map(str::to_owned),
        // Core §3.1.2.1: a voluntary request, in order of preference. This server honours the
        // one value that asks for more than it would do anyway.
        multi_factor: p
            .acr_values
            .as_deref()
            .is_some_and(|v| v.split(' ').any(|a| a == ACR_MULTI)),
    })
}

/// `max_age` is a non-negative number of seconds; one too large to hold is as good as forever.
fn max_age(raw: Option<&str>) -> Result<Option<i64>, &'static str> {
    match raw.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(v.parse::<i64>().unwrap_or(i64::MAX)))
        }
        Some(_) => Err("max_age must be a whole, non-negative number of seconds."),
    }
}

/// The browser session, as the decision needs it.
#[derive(Debug, Clone)]
pub struct SignedIn<'a> {
    /// Who is signed in.
    pub user_id: &'a str,
    /// When they signed in (Unix seconds; 0 when unknown).
    pub signed_in_at: i64,
    /// They signed in after this very request asked them to sign in: whatever the request
    /// demands of the sign-in has been done.
    pub signed_in_again: bool,
    /// The session signed in with more than a password (`AuthMethods::is_multi_factor`).
    pub multi_factor: bool,
}

/// What the authorization endpoint does next.
#[derive(Debug)]
pub enum Step {
    /// Send the person to the sign-in page; `again` when a live session is not enough.
    SignIn {
        /// Show the sign-in page even though someone is signed in.
        again: bool,
    },
    /// Show the consent page; `new_scopes` are those not approved before.
    Consent {
        /// Scopes to mark as new (empty when nothing was approved before).
        new_scopes: ScopeSet,
    },
    /// Issue a code for this person.
    Issue {
        /// Who is signed in and approves.
        user_id: String,
    },
    /// Answer the client with an error (only under `prompt=none`).
    Refuse(ClientReply),
    /// The app needs a multi-factor sign-in and the session has only a password: ask for the
    /// second factor (step-up), or, when the person has none, send them to set one up first.
    SecondFactor {
        /// The person has no second factor yet.
        enrol: bool,
    },
}

/// Why a sign-in is needed.
#[derive(Debug, PartialEq, Eq)]
enum SignInNeeded {
    /// No one is signed in.
    First,
    /// Someone is, but the request wants a fresh sign-in.
    Again,
}

fn sign_in_needed(i: &Interaction, now: i64, s: Option<&SignedIn<'_>>) -> Option<SignInNeeded> {
    let Some(s) = s else {
        return Some(SignInNeeded::First);
    };
    if s.signed_in_again {
        return None;
    }
    // Core §3.1.2.1: `login` asks for reauthentication; `select_account` for a choice of account,
    // which with one account per browser session means signing in, perhaps as someone else.
    if i.prompt.login || i.prompt.select_account {
        return Some(SignInNeeded::Again);
    }
    // "If the elapsed time is greater than this value, the OP MUST attempt to actively
    // re-authenticate"; "max_age=0 is equivalent to prompt=login". An unknown sign-in time is
    // as old as can be, so the ID token's `auth_time`, required with `max_age`, is always known.
    match i.max_age {
        Some(max)
            if max == 0 || s.signed_in_at <= 0 || now.saturating_sub(s.signed_in_at) > max =>
        {
            Some(SignInNeeded::Again)
        }
        _ => None,
    }
}

/// The next step for a valid request and the browser session (if anyone is signed in).
pub async fn next_step(
    ctx: &Context,
    valid: &ValidAuthorize,
    session: Option<&SignedIn<'_>>,
) -> Result<Step> {
    let i = &valid.interaction;
    if let Some(needed) = sign_in_needed(i, ctx.now(), session) {
        // Core §3.1.2.6: `login_required` when authentication is needed.
        return Ok(match (i.prompt.none, needed) {
            (true, SignInNeeded::First) => Step::Refuse(
                valid.refusal("login_required", "No one is signed in, and prompt=none."),
            ),
            (true, SignInNeeded::Again) => Step::Refuse(valid.refusal(
                "login_required",
                "The sign-in is older than max_age allows, and prompt=none.",
            )),
            (false, needed) => Step::SignIn {
                again: needed == SignInNeeded::Again,
            },
        });
    }
    let Some(s) = session else {
        return Ok(Step::SignIn { again: false });
    };
    if (valid.client.flags.require_second_factor || i.multi_factor) && !s.multi_factor {
        if i.prompt.none {
            // Core §3.1.2.6: the step-up is an interaction prompt=none forbids.
            return Ok(Step::Refuse(valid.refusal(
                "interaction_required",
                "This app needs a sign-in with a second factor, and prompt=none.",
            )));
        }
        let enrol = !factors::has_second_factor(ctx, s.user_id).await?;
        return Ok(Step::SecondFactor { enrol });
    }
    let existing = consent::find(ctx, s.user_id, &valid.client.id).await?;
    let needed = consent::needs_prompt(
        &valid.client,
        existing.as_ref(),
        &valid.scopes,
        i.prompt.consent,
    );
    Ok(match needed {
        None => Step::Issue {
            user_id: s.user_id.to_owned(),
        },
        // Core §3.1.2.6: `consent_required`, also for a public client, which is asked every
        // time.
        Some(_) if i.prompt.none => Step::Refuse(valid.refusal(
            "consent_required",
            "This app needs the person's consent, and prompt=none.",
        )),
        // "New" only means something next to scopes approved before.
        Some(new_scopes) if existing.is_some() => Step::Consent { new_scopes },
        Some(_) => Step::Consent {
            new_scopes: ScopeSet::default(),
        },
    })
}

/// Whether a code grant's scope earns a refresh token. Core §11: on an OpenID request, offline
/// access (a refresh token) is granted only when `offline_access` was requested, and so
/// consented to; the consent page is shown for it like for any scope not approved before. A
/// plain OAuth 2.0 grant keeps RFC 6749's rule (the client's grant types decide).
pub fn grants_refresh(scope: &str) -> bool {
    !is_openid(scope) || scope.split(' ').any(|s| s == OFFLINE_ACCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interaction(prompt: &str, max_age: Option<i64>) -> Interaction {
        Interaction {
            prompt: Prompt::parse(Some(prompt)).unwrap(),
            max_age,
            login_hint: None,
            multi_factor: false,
        }
    }

    fn session(signed_in_at: i64, again: bool) -> SignedIn<'static> {
        SignedIn {
            user_id: "u",
            signed_in_at,
            signed_in_again: again,
            multi_factor: false,
        }
    }

    #[test]
    fn prompt_none_stands_alone_and_unknown_values_are_ignored() {
        let p = Prompt::parse(Some("login  consent")).unwrap();
        assert!(p.login && p.consent && !p.none && !p.select_account);
        assert_eq!(Prompt::parse(Some("create")), Ok(Prompt::default()));
        assert!(Prompt::parse(Some("none")).unwrap().none);
        for bad in [
            "none login",
            "consent none",
            "none select_account",
            "none create",
        ] {
            assert!(Prompt::parse(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(Prompt::parse(None), Ok(Prompt::default()));
    }

    #[test]
    fn max_age_is_a_whole_non_negative_number() {
        assert_eq!(max_age(None), Ok(None));
        assert_eq!(max_age(Some("")), Ok(None));
        assert_eq!(max_age(Some("0")), Ok(Some(0)));
        assert_eq!(max_age(Some("3600")), Ok(Some(3600)));
        assert_eq!(max_age(Some(&"9".repeat(40))), Ok(Some(i64::MAX)));
        for bad in ["-1", "1.5", "+5", "ten", " 5", "1e3"] {
            assert!(max_age(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_login_hint_is_kept_only_when_it_could_be_an_address() {
        let params = |hint: &str| AuthorizeParams {
            login_hint: Some(hint.to_owned()),
            ..AuthorizeParams::default()
        };
        let hint = |h: &str| read(&params(h)).unwrap().login_hint;
        assert_eq!(hint(" ada@example.com "), Some("ada@example.com".into()));
        assert_eq!(hint(""), None);
        assert_eq!(hint(&"a".repeat(bounded::EMAIL + 1)), None);
    }

    #[test]
    fn a_live_session_is_enough_unless_the_request_wants_a_fresh_sign_in() {
        let now = 10_000;
        let s = session(now - 100, false);
        assert_eq!(sign_in_needed(&interaction("", None), now, Some(&s)), None);
        assert_eq!(
            sign_in_needed(&interaction("", None), now, None),
            Some(SignInNeeded::First)
        );
        for prompt in ["login", "select_account", "consent login"] {
            assert_eq!(
                sign_in_needed(&interaction(prompt, None), now, Some(&s)),
                Some(SignInNeeded::Again),
                "{prompt}"
            );
        }
        assert_eq!(
            sign_in_needed(&interaction("consent", None), now, Some(&s)),
            None
        );
    }

    #[test]
    fn max_age_counts_from_the_sign_in() {
        let now = 10_000;
        let s = session(now - 100, false);
        let need = |max| sign_in_needed(&interaction("", Some(max)), now, Some(&s));
        assert_eq!(need(100), None);
        assert_eq!(need(99), Some(SignInNeeded::Again));
        assert_eq!(need(0), Some(SignInNeeded::Again));
        let unknown = session(0, false);
        assert_eq!(
            sign_in_needed(&interaction("", Some(i64::MAX)), now, Some(&unknown)),
            Some(SignInNeeded::Again)
        );
    }

    #[test]
    fn signing_in_again_for_the_request_satisfies_it() {
        let now = 10_000;
        let fresh = session(now, true);
        for (prompt, max) in [("login", None), ("select_account", None), ("", Some(0))] {
            assert_eq!(
                sign_in_needed(&interaction(prompt, max), now, Some(&fresh)),
                None,
                "{prompt} {max:?}"
            );
        }
    }

    #[test]
    fn openid_grants_refresh_only_with_offline_access() {
        assert!(grants_refresh("read write"));
        assert!(grants_refresh("offline_access"));
        assert!(grants_refresh("openid offline_access"));
        assert!(!grants_refresh("openid profile"));
        assert!(!grants_refresh("openid"));
    }
}
