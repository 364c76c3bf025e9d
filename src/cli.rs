//! Subcommands other than `serve`. Each goes through the same domain operation as the web, as
//! the operator (`Actor::CommandLine`), so the audit log records it with actor type `cli`; the
//! log is written before the process exits.

use std::future::Future;
use std::io::{BufRead, IsTerminal};

use crate::clock::Clock;
use crate::config::{Settings, UserCreate, UserVerifyEmail};
use crate::domain::accounts::{self, NewAccount};
use crate::domain::client::{ClientFlags, GrantType, NewClient};
use crate::domain::client_flags::{self, FlagChange};
use crate::domain::client_settings::{self, AccessTokenFormat, OidcSettings, SettingsChange};
use crate::domain::context::{Actor, Context};
use crate::domain::password_reset;
use crate::domain::people::{self, Person};
use crate::domain::signing_keys;
use crate::domain::user_admin;
use crate::runtime::audit_writer::Auditor;
use crate::runtime::cache::Caches;
use crate::runtime::hash_gate::HashGate;
use crate::secret::Password;
use crate::storage;

/// Opens and migrates the database and builds the context operations run with.
async fn context(settings: &Settings) -> anyhow::Result<Context> {
    let db = storage::connect(&settings.database_url, settings.pool()).await?;
    let hasher = storage::migrate_then(&db, crate::startup::load_hasher(&db)).await?;
    let auditor = Auditor::start(crate::storage::writer::Writer::direct(&db));
    let (hash_concurrency, hash_queue) = settings.password_hash_bounds();
    // What a command changes is announced to running servers (PostgreSQL) before it exits.
    let caches = Caches::default();
    crate::runtime::invalidation::tie(&db, &caches);
    let sealer = crate::startup::load_sealer(&db).await?;
    Ok(Context::new(db, caches, hasher, auditor, Clock::default())
        .with_hash_gate(HashGate::new(hash_concurrency, hash_queue))
        .with_sealer(sealer))
}

/// Runs one operation, then writes its audit events before the process can exit, whether it
/// succeeded or not.
async fn audited<T>(
    ctx: &Context,
    op: impl Future<Output = crate::error::Result<T>>,
) -> anyhow::Result<T> {
    let out = op.await;
    ctx.flush().await;
    out.map_err(|e| anyhow::anyhow!("{e}"))
}

/// `portcullis migrate`: safe to run while servers start or run (see `storage::migrate`).
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let db = storage::connect(&settings.database_url, settings.pool()).await?;
    storage::migrate(&db).await?;
    println!("migrations applied to {}", settings.database_url.redacted());
    Ok(())
}

/// `portcullis user create`
pub async fn user_create(settings: &Settings, args: UserCreate) -> anyhow::Result<()> {
    let password = read_password()?;
    let ctx = context(settings).await?;
    let input = NewAccount {
        email: args.email,
        name: args.name,
        password,
    };
    let user = audited(
        &ctx,
        accounts::create(&ctx, Actor::CommandLine, input, args.admin),
    )
    .await?;
    println!("{}", user.id);
    Ok(())
}

/// `portcullis user verify-email`
pub async fn user_verify_email(settings: &Settings, args: UserVerifyEmail) -> anyhow::Result<()> {
    let ctx = context(settings).await?;
    let who = Person::Email(&args.email);
    let set = people::set_email_verified(&ctx, Actor::CommandLine, who, !args.unverified);
    let user = audited(&ctx, set).await?;
    println!("{}: email_verified {}", user.email, user.email_verified);
    Ok(())
}

/// `portcullis user reset-password`
pub async fn user_reset_password(
    settings: &Settings,
    args: crate::config::UserResetPassword,
) -> anyhow::Result<()> {
    let password = read_password()?;
    let ctx = context(settings).await?;
    let reset = password_reset::reset_by_operator(&ctx, Actor::CommandLine, &args.email, password);
    let ended = audited(&ctx, reset).await?;
    println!(
        "{}: password reset; ended {} browser session(s), {} session token(s) and {} app \
         sign-in(s)",
        args.email.trim(),
        ended.sessions,
        ended.session_tokens,
        ended.token_families
    );
    Ok(())
}

/// `portcullis user list`: one account per line, tab-separated: id, email, name, `admin` or
/// `-`, `active` or `disabled`.
pub async fn user_list(settings: &Settings) -> anyhow::Result<()> {
    let ctx = context(settings).await?;
    let users = audited(&ctx, user_admin::list_all(&ctx, Actor::CommandLine)).await?;
    for u in users {
        let admin = if u.is_admin { "admin" } else { "-" };
        let status = if u.is_active() { "active" } else { "disabled" };
        println!("{}\t{}\t{}\t{admin}\t{status}", u.id, u.email, u.name);
    }
    Ok(())
}

/// `portcullis user disable` and `portcullis user enable`
pub async fn user_set_disabled(
    settings: &Settings,
    email: &str,
    disable: bool,
) -> anyhow::Result<()> {
    let ctx = context(settings).await?;
    let who = Person::Email(email);
    let user = if disable {
        audited(&ctx, user_admin::disable(&ctx, Actor::CommandLine, who)).await?
    } else {
        audited(&ctx, user_admin::enable(&ctx, Actor::CommandLine, who)).await?
    };
    let status = if user.is_active() {
        "active"
    } else {
        "disabled"
    };
    println!("{}: {status}", user.email);
    Ok(())
}

/// One line from stdin when piped; otherwise a hidden prompt, twice.
fn read_password() -> anyhow::Result<Password> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        return Ok(Password::new(line));
    }
    let first = rpassword::prompt_password("Password: ")?;
    let second = rpassword::prompt_password("Repeat password: ")?;
    if first != second {
        anyhow::bail!("the passwords do not match");
    }
    Ok(Password::new(first))
}

/// `portcullis client create`
pub async fn client_create(
    settings: &Settings,
    args: crate::config::ClientCreate,
) -> anyhow::Result<()> {
    let mut grants = Vec::new();
    for g in &args.grants {
        grants.push(GrantType::parse(g).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown grant {g:?}: use authorization_code, refresh_token or client_credentials"
            )
        })?);
    }
    let oidc = OidcSettings {
        id_token_alg: client_settings::parse_alg(&args.id_token_signed_response_alg)?,
        post_logout_redirect_uris: args.post_logout_redirect_uris,
    };
    let access_token_format = AccessTokenFormat::parse(&args.token_format)?;
    let ctx = context(settings).await?;
    let new = NewClient {
        name: args.name,
        redirect_uris: args.redirect_uris,
        scope: args.scope,
        public: args.public,
        grants,
        oidc,
        access_token_format,
    };
    let flags = ClientFlags {
        resource_server: args.resource_server,
        first_party: args.first_party,
        require_second_factor: args.require_second_factor,
    };
    let reg = audited(&ctx, client_flags::register(&ctx, new, flags)).await?;
    let secret = reg.secret.as_ref().map(|s| s.expose().to_owned());
    let format = reg.client.access_token_format;
    if args.json {
        let mut out =
            serde_json::json!({"client_id": reg.client.id, "access_token_format": format});
        if let Some(s) = &secret {
            out["client_secret"] = serde_json::json!(s);
        }
        println!("{out}");
    } else {
        println!("client_id:     {}", reg.client.id);
        println!("access tokens: {format}");
        if let Some(s) = &secret {
            println!("client_secret: {s}");
            println!("(the secret is shown only now; store it safely)");
        }
    }
    Ok(())
}

/// `portcullis client set`
pub async fn client_set(settings: &Settings, args: crate::config::ClientSet) -> anyhow::Result<()> {
    let flags = FlagChange {
        resource_server: args.resource_server,
        first_party: args.first_party,
        require_second_factor: args.require_second_factor,
    };
    // Both checked before anything changes, so a bad value changes nothing.
    let post_logout = if args.clear_post_logout_redirect_uris {
        Some(Vec::new())
    } else if args.post_logout_redirect_uris.is_empty() {
        None
    } else {
        Some(client_settings::validate_post_logout_uris(
            &args.post_logout_redirect_uris,
        )?)
    };
    let change = SettingsChange {
        id_token_alg: args
            .id_token_signed_response_alg
            .as_deref()
            .map(client_settings::parse_alg)
            .transpose()?,
        post_logout_redirect_uris: post_logout,
        access_token_format: args
            .token_format
            .as_deref()
            .map(AccessTokenFormat::parse)
            .transpose()?,
    };
    let ctx = context(settings).await?;
    let set = async {
        let by = Actor::CommandLine;
        client_flags::set(&ctx, by, &args.client_id, flags).await?;
        client_settings::update(&ctx, by, &args.client_id, change).await
    };
    let client = audited(&ctx, set).await?;
    if args.json {
        let out = serde_json::json!({
            "client_id": client.id,
            "resource_server": client.flags.resource_server,
            "first_party": client.flags.first_party,
            "require_second_factor": client.flags.require_second_factor,
            "id_token_signed_response_alg": client.oidc.id_token_alg.as_str(),
            "post_logout_redirect_uris": client.oidc.post_logout_redirect_uris,
            "access_token_format": client.access_token_format,
        });
        println!("{out}");
        return Ok(());
    }
    println!("client_id:       {}", client.id);
    println!("resource_server: {}", client.flags.resource_server);
    println!("first_party:     {}", client.flags.first_party);
    println!(
        "require_second_factor: {}",
        client.flags.require_second_factor
    );
    println!("id_token_signed_response_alg: {}", client.oidc.id_token_alg);
    println!(
        "post_logout_redirect_uris: {}",
        client.oidc.post_logout_redirect_uris.join(" ")
    );
    println!("access_token_format: {}", client.access_token_format);
    println!("running servers see the change within --cache-ttl-ms (1 s by default)");
    Ok(())
}

/// `portcullis keys rotate`
pub async fn keys_rotate(settings: &Settings, delay_secs: u32) -> anyhow::Result<()> {
    let ctx = context(settings).await?;
    let rotate = signing_keys::rotate(&ctx, Actor::CommandLine, delay_secs);
    let (keys, activates_at) = audited(&ctx, rotate).await?;
    for (alg, kid) in keys {
        println!("new {alg} signing key: {kid}");
    }
    let at = time::OffsetDateTime::from_unix_timestamp(activates_at)?
        .format(&time::format_description::well_known::Rfc3339)?;
    println!(
        "new keys are published now and sign from {at} (in {delay_secs} s) on every node; \
         the previous keys stay published until their tokens expire"
    );
    Ok(())
}

/// `portcullis key check`: offline format and checksum check.
pub fn key_check(secret: &str) -> std::process::ExitCode {
    match crate::domain::secret_format::check(secret.trim()) {
        Ok(kind) => {
            println!("ok: {} ({})", kind.label(), kind.prefix());
            std::process::ExitCode::SUCCESS
        }
        Err(reason) => {
            println!("not a Portcullis secret: {reason}");
            std::process::ExitCode::FAILURE
        }
    }
}
