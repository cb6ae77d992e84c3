//! `fast-flights user …`: accounts made from the command line, such as the first admin.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use domain::{Email, Role};
use store::{Store, StoreError};

use crate::config::UserCommand;

/// The variable a password may come from instead of stdin.
pub const PASSWORD_VAR: &str = "FAST_FLIGHTS_PASSWORD";

pub async fn run(store: &Store, command: &UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { email, role } => {
            let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--email: {m}"))?;
            let password = read_password()?;
            domain::check_password(&password).map_err(|m| anyhow::anyhow!("password: {m}"))?;
            let hash = tokio::task::spawn_blocking(move || api::auth::hash_password(&password))
                .await
                .context("hashing the password")??;
            let role: Role = (*role).into();
            let user = match store.create_user(&email, &hash, role).await {
                Ok(user) => user,
                Err(e @ StoreError::EmailTaken(_)) => {
                    bail!("{e}; use `user set-role` to change its role")
                }
                Err(e) => return Err(e).context("creating the account"),
            };
            println!(
                "created {} account {} (id {})",
                user.role.as_str(),
                user.email,
                user.id
            );
        }
        UserCommand::SetRole { email, role } => {
            let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--email: {m}"))?;
            let Some(user) = store.user_by_email(&email).await? else {
                bail!("no account has the email {}", email.as_str());
            };
            let user = store.set_user_role(user.id, (*role).into()).await?;
            println!("{} is now {}", user.email, user.role.as_str());
        }
    }
    Ok(())
}

/// From FAST_FLIGHTS_PASSWORD, else from stdin: asked twice without echo on a terminal,
/// the first line otherwise.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_VAR) {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let second = rpassword::prompt_password("Again: ").context("reading the password")?;
        if first != second {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password: pipe it on stdin or set {PASSWORD_VAR}");
    }
    Ok(password)
}
