//! Building and running the HTTP server: open the database, apply migrations, load the server's
//! secrets, wire middleware and routes.

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, TtlExtensionPolicy};
use actix_web::cookie::{Key, SameSite, time::Duration};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::domain::browser_sessions::BrowserSessions;
use crate::domain::context::Context;
use crate::domain::credentials::CredentialService;
use crate::domain::jwt::Keys;
use crate::domain::notices::Outbox;
use crate::domain::session_tokens::SessionTokens;
use crate::domain::tokens::{self, TokenService};
use crate::http;
use crate::runtime::audit_writer::Auditor;
use crate::runtime::cache::Caches;
use crate::runtime::hash_gate::HashGate;
use crate::runtime::last_used::LastUsed;
use crate::runtime::mail_throttle::MailThrottle;
use crate::runtime::usage::Usage;
use crate::secret::SecretHasher;
use crate::state::AppState;
use crate::storage::{self, Db, sessions::DbSessionStore};

/// Name of the browser-session cookie.
pub const SESSION_COOKIE: &str = "portcullis_session";

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    /// The hot paths' writer (`storage::writer`), which also writes the usage counts left at
    /// shutdown.
    writer: storage::writer::Writer,
    /// Usage counts not yet written: flushed once more when the server stops.
    usage: Usage,
}

impl Application {
    /// Connects, migrates, binds and builds the server (it starts when `run_until_stopped` is
    /// awaited or the server future is spawned).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, None).await
    }

    /// Like `build`, with a clock the caller controls (tests move it to check expiries).
    pub async fn build_with_clock(
        mut settings: Settings,
        settings_clock: Option<crate::clock::Clock>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind)?;
        let local = listener.local_addr()?;
        let port = local.port();
        if settings.issuer.is_none() {
            // With port 0 the issuer must name the port actually bound.
            settings.bind = local;
        }
        let db = storage::connect(&settings.database_url, settings.pool()).await?;
        let caches = Caches::new(std::time::Duration::from_millis(settings.cache_ttl_ms));
        // Under the setup lock: however many servers start at once, one migrates and creates
        // the first-run secrets and signing key, and the others read them.
        let first_run = async {
            let session_key = load_session_key(&db).await?;
            Ok((session_key, build_tokens(&db, &caches, &settings).await?))
        };
        let (session_key, tokens) = storage::migrate_then(&db, first_run).await?;
        let clock = settings_clock.unwrap_or_default();
        let writer = storage::open_writer(&db, &settings.database_url).await?;
        let auditor = Auditor::start_timed(writer.clone(), clock.clone());
        let usage = Usage::new(clock.clone());
        crate::runtime::usage::spawn(writer.clone(), usage.clone());
        let tokens = tokens
            .with_writer(writer.clone())
            .with_clock(clock.clone())
            .with_auditor(auditor.clone())
            .with_usage(usage.clone());
        spawn_key_reloader(db.clone(), tokens.clone());
        spawn_rsa_key_maker(db.clone(), tokens.clone());
        let (hash_concurrency, hash_queue) = settings.password_hash_bounds();
        let ctx = Context::new(
            db.clone(),
            caches.clone(),
            tokens.hasher().clone(),
            auditor.clone(),
            clock.clone(),
        )
        .with_hash_gate(HashGate::new(hash_concurrency, hash_queue))
        .with_sealer(load_sealer(&db).await?)
        .with_usage(usage.clone())
        .with_writer(writer.clone());
        let ctx = with_passkeys(ctx, &settings.issuer());
        // Mail only with --smtp-url (and --mail-from, which clap requires with it).
        let ctx = match (&settings.smtp_url, &settings.mail_from) {
            (Some(url), Some(from)) => {
                let mailer = crate::runtime::mailer::Mailer::start(url, from)?;
                ctx.with_outbox(Outbox::new(mailer, settings.issuer()))
            }
            _ => ctx,
        };
        let credentials = CredentialService::new(
            db.clone(),
            caches.clone(),
            tokens.hasher().clone(),
            clock.clone(),
            LastUsed::default(),
        )
        .with_writer(writer.clone())
        .with_auditor(auditor.clone())
        .with_usage(usage.clone());
        spawn_last_used_writer(credentials.clone());
        // Other nodes' changes hold here at once (PostgreSQL; nothing on SQLite).
        let (url, keys) = (&settings.database_url, tokens.keys());
        crate::runtime::invalidation::start(url, &db, &caches, keys, local).await;
        if crate::domain::accounts::first_run(&ctx).await? {
            tracing::warn!(
                "no accounts yet: open {}/signup to create the administrator account, \
                 or run `portcullis user create --admin`",
                settings.issuer()
            );
        }
        let workers = settings
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
        let https = settings.https();
        let idle = Duration::minutes(i64::from(settings.session_idle_minutes));
        crate::runtime::checkpointer::spawn(db.clone());
        crate::runtime::purge::spawn(
            writer.clone(),
            clock.clone(),
            i64::from(settings.audit_retention_days),
        );
        let (throttle, signin_throttle, rate_limits) =
            crate::runtime::limits::build(&settings, &db, &clock).await?;
        let session_max = i64::from(settings.session_max_hours) * 3600;
        let metrics = match settings.metrics_token {
            Some(_) => Some(crate::runtime::metrics::Exporter::start()?),
            None => None,
        };
        let metrics_on = metrics.is_some();
        let session_tokens = SessionTokens::new(ctx.clone(), tokens.clone(), session_max);
        let browser_sessions = BrowserSessions::new(ctx.clone(), session_max);
        let state = web::Data::new(AppState {
            ctx,
            db: db.clone(),
            settings: Arc::new(settings),
            tokens,
            credentials,
            session_tokens,
            browser_sessions,
            caches,
            auditor,
            throttle,
            signin_throttle,
            mail_throttle: MailThrottle::default(),
            rate_limits,
            oauth_addons: http::oauth::primitives::addons(),
            metrics,
        });
        let store = DbSessionStore::new(db.clone(), clock).with_writer(writer.clone());
        let server = HttpServer::new(move || {
            let sessions = SessionMiddleware::builder(store.clone(), session_key.clone())
                .cookie_name(SESSION_COOKIE.to_owned())
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_secure(https)
                .session_lifecycle(
                    BrowserSession::default()
                        .state_ttl(idle)
                        .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
                )
                .build();
            App::new()
                .app_data(state.clone())
                .app_data(http::error::json_config())
                .app_data(http::error::query_config())
                .wrap(from_fn(http::api::caller::rate_headers))
                .wrap(from_fn(http::usage_count::count))
                .wrap(from_fn(http::enrol_gate::enrol_gate))
                .wrap(sessions)
                .wrap(from_fn(http::outage::session_store_outage))
                .wrap(http::security_headers::default_headers(https))
                .wrap(from_fn(http::request_id::scope))
                .wrap(Condition::new(metrics_on, from_fn(http::metrics::track)))
                .wrap(TracingLogger::<http::root_span::LeanRootSpan>::new())
                .configure(http::routes)
                .configure(|cfg| http::metrics::routes(cfg, metrics_on))
                .default_service(web::to(http::not_found))
        })
        .workers(workers)
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            db,
            writer,
            usage,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database pool the server uses.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// A handle that stops the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped by a signal or the handle.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        // What was counted since the last flush would otherwise be lost with the process.
        if let Err(e) = self.usage.flush(&self.writer).await {
            tracing::warn!(error = %e, "could not write usage counts at shutdown");
        }
        served
    }
}

/// The token service: the HMAC key for stored secrets and the JWT signing keys, both created on
/// first start and kept in the database.
pub async fn build_tokens(
    db: &Db,
    caches: &Caches,
    settings: &Settings,
) -> anyhow::Result<TokenService> {
    let hasher = load_hasher(db).await?;
    let issuer = settings.issuer();
    let ttl = i64::from(settings.access_token_ttl);
    let keys = Keys::new(tokens::load_key_set(db, &issuer, ttl).await?);
    Ok(TokenService::new(
        db.clone(),
        caches.clone(),
        hasher,
        keys,
        issuer,
        ttl,
        i64::from(settings.refresh_token_ttl_days) * 86_400,
    )
    .with_session_max(i64::from(settings.session_max_hours) * 3600))
}

/// The keyed hash of machine secrets, its key created on first start and kept in the database.
pub async fn load_hasher(db: &Db) -> anyhow::Result<SecretHasher> {
    // Server secrets are dated by the system clock: they are made before any server runs.
    let hmac_key = storage::secrets::get_or_create(
        db,
        "hmac_key",
        || STANDARD.encode(crate::secret::random_bytes::<32>()),
        crate::clock::Clock::default().now(),
    )
    .await?;
    Ok(SecretHasher::new(&STANDARD.decode(hmac_key)?))
}

/// The key that seals second-factor secrets, created on first start and kept in the database
/// like the HMAC key (never logged: `Sealer`'s `Debug` is redacted).
pub async fn load_sealer(db: &Db) -> anyhow::Result<crate::secret::Sealer> {
    let key = storage::secrets::get_or_create(
        db,
        "factor_key",
        || STANDARD.encode(crate::secret::random_bytes::<32>()),
        crate::clock::Clock::default().now(),
    )
    .await?;
    crate::secret::Sealer::new(&STANDARD.decode(key)?)
        .ok_or_else(|| anyhow::anyhow!("the stored factor_key is not 32 bytes"))
}

/// Writes the coalesced "last used" times every two seconds.
fn spawn_last_used_writer(credentials: CredentialService) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
        loop {
            tick.tick().await;
            if let Err(e) = credentials.flush_last_used().await {
                tracing::warn!(error = %e, "could not record credential use");
            }
        }
    });
}

/// Keeps the signing keys current (`runtime::key_reloader`): keys that `portcullis keys rotate`
/// or another node adds, and rotated keys whose activation time comes.
fn spawn_key_reloader(db: Db, tokens: TokenService) {
    tokio::spawn(async move {
        crate::runtime::key_reloader::run(db, tokens).await;
    });
}

/// Makes the first RSA key (for RS256 ID tokens) when the database has none, without holding up
/// start-up; RS256 signing waits for it. Retried every ten seconds should storage fail.
fn spawn_rsa_key_maker(db: Db, tokens: TokenService) {
    tokio::spawn(async move {
        while let Err(e) =
            tokens::ensure_rsa_key(&db, tokens.keys(), tokens.issuer(), tokens.access_ttl()).await
        {
            tracing::warn!(error = %e, "could not create the RSA signing key; retrying");
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        }
    });
}

/// The session-cookie signing/encryption key, generated on first run and kept in the database so
/// a restart (or another node) keeps people signed in.
async fn load_session_key(db: &Db) -> anyhow::Result<Key> {
    let encoded = storage::secrets::get_or_create(
        db,
        "session_key",
        || STANDARD.encode(crate::secret::random_bytes::<64>()),
        crate::clock::Clock::default().now(),
    )
    .await?;
    let bytes = STANDARD.decode(encoded)?;
    Ok(Key::try_from(bytes.as_slice())?)
}

/// `ctx` with the WebAuthn relying party of this issuer, built once here; without passkeys (and
/// a warning saying why) when the issuer cannot be one, such as an IP address.
fn with_passkeys(ctx: Context, issuer: &str) -> Context {
    let relying_party = url::Url::parse(issuer)
        .map_err(|e| format!("the issuer {issuer} is not a URL: {e}"))
        .and_then(|url| crate::domain::passkeys::RelyingParty::from_issuer(&url));
    match relying_party {
        Ok(rp) => {
            tracing::info!(rp_id = rp.id(), "passkeys are on");
            ctx.with_relying_party(rp)
        }
        Err(why) => {
            tracing::warn!("passkeys are off: {why}");
            ctx
        }
    }
}
