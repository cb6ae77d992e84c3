use anyhow::Context;
use clap::Parser;
use fast_flights::{
    Application, Cli, Command, accounts, default_registry, imports, install_metrics, open_store,
    shutdown_on_signals, telemetry,
};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = cli.config;
    let command = cli.command.unwrap_or(Command::Serve);
    if command == Command::Schema {
        print!("{}", api::sdl());
        return Ok(());
    }
    telemetry::init(config.log_format);
    if command == Command::Migrate {
        open_store(&config).await?;
        println!(
            "migrations applied to {}",
            store::redact(&config.database_url)
        );
        return Ok(());
    }
    if let Command::User(user) = &command {
        let store = open_store(&config).await?;
        let done = accounts::run(&store, user).await;
        store.close().await?;
        return done;
    }
    if let Command::Import { file, force } = &command {
        let shutdown = shutdown_on_signals();
        let store = open_store(&config).await?;
        // 0: imported; 1: the file was refused; 2: the import could not run.
        let code = match imports::run(&config, store.clone(), file, *force, shutdown.clone()).await
        {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(e) => {
                eprintln!("Error: {e:#}");
                2
            }
        };
        shutdown.cancel();
        let _ = store.close().await;
        std::process::exit(code);
    }
    let serve_api = command == Command::Serve;
    let shutdown = shutdown_on_signals();
    let metrics = install_metrics(&shutdown)?;
    let store = open_store(&config).await?;
    let registry = default_registry(&config, &store)?;
    let app = Application::build(
        &config,
        store,
        registry,
        serve_api,
        &shutdown,
        Some(metrics),
    )
    .await?;
    if serve_api {
        let addr = app.local_addr().context("the API has no address")?;
        tracing::info!(%addr, worker = !config.no_worker, "listening");
        println!("fast-flights listening on http://{addr}");
        println!("  GraphQL:   http://{addr}/graphql");
        println!("  WebSocket: ws://{addr}/graphql (graphql-transport-ws)");
        println!("  GraphiQL:  http://{addr}/graphiql");
        println!("  Metrics:   http://{addr}/metrics");
    } else if let Some(addr) = app.metrics_addr() {
        println!("fast-flights worker metrics on http://{addr}/metrics");
    }
    app.run_until_stopped(shutdown).await
}
