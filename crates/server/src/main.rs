use anyhow::Context;
use clap::Parser;
use fast_flights::{
    Application, Cli, Command, default_registry, open_store, shutdown_on_signals, telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", api::sdl());
            Ok(())
        }
        Command::Migrate => {
            telemetry::init(config.log_format);
            open_store(&config).await?;
            println!(
                "migrations applied to {}",
                store::redact(&config.database_url)
            );
            Ok(())
        }
        Command::Worker => {
            telemetry::init(config.log_format);
            let shutdown = shutdown_on_signals();
            let app =
                Application::build(&config, default_registry(&config)?, false, &shutdown).await?;
            app.run_until_stopped(shutdown).await
        }
        Command::Serve => {
            telemetry::init(config.log_format);
            let shutdown = shutdown_on_signals();
            let app =
                Application::build(&config, default_registry(&config)?, true, &shutdown).await?;
            let addr = app.local_addr().context("the API has no address")?;
            tracing::info!(%addr, worker = !config.no_worker, "listening");
            println!("fast-flights listening on http://{addr}");
            println!("  GraphQL:   http://{addr}/graphql");
            println!("  WebSocket: ws://{addr}/graphql (graphql-transport-ws)");
            println!("  GraphiQL:  http://{addr}/graphiql");
            app.run_until_stopped(shutdown).await
        }
    }
}
