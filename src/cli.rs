//! Subcommands other than `serve`.

use std::io::{BufRead, IsTerminal};

use crate::config::{Settings, UserCreate};
use crate::domain::accounts::{self, NewAccount};
use crate::secret::Password;
use crate::storage;

/// `portcullis migrate`
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let db = storage::connect(&settings.database_url).await?;
    storage::migrate(&db).await?;
    println!("migrations applied to {}", settings.database_url.redacted());
    Ok(())
}

/// `portcullis user create`
pub async fn user_create(settings: &Settings, args: UserCreate) -> anyhow::Result<()> {
    let password = read_password()?;
    let db = storage::connect(&settings.database_url).await?;
    storage::migrate(&db).await?;
    let input = NewAccount {
        email: args.email,
        name: args.name,
        password,
    };
    let user = accounts::create(&db, input, args.admin)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", user.id);
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
