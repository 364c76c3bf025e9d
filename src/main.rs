//! The `portcullis` binary: parse the command line, set up logging, dispatch.

use clap::Parser;
use portcullis::config::{Cli, ClientCommand, Command, KeyCommand, KeysCommand, UserCommand};
use portcullis::startup::Application;
use portcullis::{cli, telemetry};

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    telemetry::init(&args.settings);
    let result = match args.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(args.settings).await,
        Command::Migrate => cli::migrate(&args.settings).await,
        Command::User(UserCommand::Create(create)) => {
            cli::user_create(&args.settings, create).await
        }
        Command::User(UserCommand::VerifyEmail(verify)) => {
            cli::user_verify_email(&args.settings, verify).await
        }
        Command::User(UserCommand::ResetPassword(reset)) => {
            cli::user_reset_password(&args.settings, reset).await
        }
        Command::User(UserCommand::List) => cli::user_list(&args.settings).await,
        Command::User(UserCommand::Disable(who)) => {
            cli::user_set_disabled(&args.settings, &who.email, true).await
        }
        Command::User(UserCommand::Enable(who)) => {
            cli::user_set_disabled(&args.settings, &who.email, false).await
        }
        Command::Client(ClientCommand::Create(create)) => {
            cli::client_create(&args.settings, create).await
        }
        Command::Client(ClientCommand::Set(set)) => cli::client_set(&args.settings, set).await,
        Command::Keys(KeysCommand::Rotate {
            activation_delay_secs,
        }) => cli::keys_rotate(&args.settings, activation_delay_secs).await,
        Command::Key(KeyCommand::Check { secret }) => return cli::key_check(&secret),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(settings: portcullis::config::Settings) -> anyhow::Result<()> {
    tracing::info!(bind = %settings.bind, database = %settings.database_url.redacted(), "starting");
    let app = Application::build(settings).await?;
    tracing::info!(port = app.port(), "listening");
    app.run_until_stopped().await?;
    Ok(())
}
