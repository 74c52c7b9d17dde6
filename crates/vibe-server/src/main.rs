//! `vibe`: the command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use vibe_core::time::Clock;
use vibe_server::config::Config;
use vibe_server::domain::{Email, Password};
use vibe_server::{bootstrap, App};
use vibe_store::Role;

#[derive(Parser)]
#[command(
    name = "vibe",
    version,
    about = "Vibe: self-hosted real-time CRM and customer analytics"
)]
struct Cli {
    /// Configuration file (default: ./vibe.toml when present).
    #[arg(long, global = true, env = "VIBE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (default address 127.0.0.1:8080, VIBE_ADDR).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage dashboard accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Fill a project with a realistic demo history ("Demo shop" unless --project).
    Demo {
        #[arg(long)]
        project: Option<String>,
        /// People to create.
        #[arg(long, default_value_t = 500)]
        users: u64,
        /// Days of history, ending today.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Stored events to aim for (default: 20 per person).
        #[arg(long)]
        events: Option<u64>,
        /// Do nothing if the project already has events (used by `make run`).
        #[arg(long)]
        if_empty: bool,
    },
    /// Analytics rollups.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
    /// Support report snapshots.
    Support {
        #[command(subcommand)]
        command: SupportCommand,
    },
    /// Exchange rates for revenue reports.
    Rates {
        #[command(subcommand)]
        command: RatesCommand,
    },
}

#[derive(Subcommand)]
enum RatesCommand {
    /// Import an ECB reference-rate file (eurofxref-hist.csv, eurofxref.csv,
    /// eurofxref-daily.xml, eurofxref-hist.xml) into every project, or one.
    Import {
        file: PathBuf,
        /// Only this project id.
        #[arg(long)]
        project: Option<String>,
    },
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Recompute daily stats from stored events (idempotent). By default every
    /// project over its whole history.
    Rebuild {
        /// Only this project id.
        #[arg(long)]
        project: Option<String>,
        /// First local day, YYYY-MM-DD (default: the project's first event).
        #[arg(long)]
        from: Option<String>,
        /// Last local day, YYYY-MM-DD (default: today).
        #[arg(long)]
        to: Option<String>,
    },
}

#[derive(Subcommand)]
enum SupportCommand {
    /// Recompute closed support snapshots (hourly, daily, weekly) from the raw
    /// facts: the only way a fact that landed in an already folded hour gets
    /// in. By default every project over its whole history.
    Rebuild {
        /// Only this project id.
        #[arg(long)]
        project: Option<String>,
        /// First local day, YYYY-MM-DD (with --to).
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// Last local day, YYYY-MM-DD (with --from).
        #[arg(long, requires = "from")]
        to: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; it joins the default project with the given role.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// owner, admin, supervisor, agent or viewer ("member" is an old name for viewer)
        #[arg(long, default_value = "member")]
        role: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    init_logging(&config.log);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve => serve(config).await,
            Command::Migrate => {
                let store = bootstrap::open_store(&config).await?;
                println!("migrations applied ({})", store.backend());
                Ok(())
            }
            Command::Demo {
                project,
                users,
                days,
                events,
                if_empty,
            } => {
                let store = bootstrap::open_store(&config).await?;
                demo(
                    store.as_ref(),
                    &config,
                    project.as_deref(),
                    users,
                    days,
                    events,
                    if_empty,
                )
                .await
            }
            Command::Stats {
                command: StatsCommand::Rebuild { project, from, to },
            } => {
                let store = bootstrap::open_store(&config).await?;
                rebuild_stats(
                    store.as_ref(),
                    project.as_deref(),
                    from.as_deref(),
                    to.as_deref(),
                )
                .await
            }
            Command::Support {
                command: SupportCommand::Rebuild { project, from, to },
            } => {
                let store = bootstrap::open_store(&config).await?;
                rebuild_support(
                    store.as_ref(),
                    project.as_deref(),
                    from.as_deref(),
                    to.as_deref(),
                )
                .await
            }
            Command::Rates {
                command: RatesCommand::Import { file, project },
            } => {
                let store = bootstrap::open_store(&config).await?;
                import_rates(store.as_ref(), &file, project.as_deref()).await
            }
            Command::User {
                command:
                    UserCommand::Create {
                        email,
                        password,
                        role,
                    },
            } => {
                let role = Role::parse(&role)
                    .context("--role must be owner, admin, supervisor, agent or viewer")?;
                let email = Email::parse("--email", &email)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .into_inner();
                let password = Password::parse("--password", &password)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .into_inner();
                let store = bootstrap::open_store(&config).await?;
                let now = Clock::default().now_ms();
                let account = bootstrap::create_account_in(
                    store.as_ref(),
                    &config,
                    &email,
                    password,
                    role,
                    now,
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("created {} ({})", account.email, role.as_str());
                Ok(())
            }
        }
    })
}

async fn demo(
    store: &dyn vibe_store::Store,
    config: &Config,
    project: Option<&str>,
    users: u64,
    days: i64,
    events: Option<u64>,
    if_empty: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        users > 0 && (1..=3650).contains(&days),
        "--users must be > 0 and --days between 1 and 3650"
    );
    let now = Clock::default().now_ms();
    // The default project comes first so it stays the default.
    bootstrap::ensure_default_project(store, config, now).await?;
    // One millisecond later, so the default project stays the oldest.
    let p = vibe_server::demo::demo_project(store, project, now + 1).await?;
    if if_empty && store.event_time_bounds(&p.id).await?.is_some() {
        // Older demo data gets the demo's flows, built from its events.
        vibe_server::demo::demo_flows(store, &p, now).await?;
        println!("{} already has data; leaving it as it is", p.name);
        return Ok(());
    }
    let size = vibe_server::demo::DemoSize {
        users,
        days,
        events: events.unwrap_or(users * 20),
    };
    println!(
        "generating {} people, {} days, up to {} events into {} ({})",
        size.users, size.days, size.events, p.name, p.id
    );
    let started = std::time::Instant::now();
    let stored = vibe_server::demo::generate(store, &p, size, now, true).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "stored {stored} events in {secs:.1} s ({:.0} events/s)",
        stored as f64 / secs.max(0.001)
    );
    Ok(())
}

async fn rebuild_stats(
    store: &dyn vibe_store::Store,
    only: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<()> {
    let parse = |flag: &str, v: Option<&str>| -> anyhow::Result<Option<jiff::civil::Date>> {
        v.map(|s| {
            vibe_core::day::parse_day(s)
                .with_context(|| format!("{flag} must be a date like 2026-01-31"))
        })
        .transpose()
    };
    let (from, to) = (parse("--from", from)?, parse("--to", to)?);
    let projects: Vec<_> = store
        .list_projects()
        .await?
        .into_iter()
        .filter(|p| only.is_none_or(|id| p.id == id))
        .collect();
    if projects.is_empty() {
        match only {
            Some(id) => anyhow::bail!("no project with id {id}"),
            None => anyhow::bail!(
                "there are no projects yet (start `vibe serve` once to create the default one)"
            ),
        }
    }
    for p in projects {
        let tz = vibe_core::day::ProjectTz::or_utc(&p.timezone);
        let now = Clock::default().now_ms();
        let bounds = store.event_time_bounds(&p.id).await?;
        let from =
            from.unwrap_or_else(|| tz.date_of(bounds.map_or(now, |b| b.0.min(p.created_at))));
        let to = to.unwrap_or_else(|| tz.date_of(bounds.map_or(now, |b| b.1.max(now))));
        let started = std::time::Instant::now();
        // Payments first: the rollup rebuild's payers sketches read them.
        let revenue = store.rebuild_revenue(&p.id, &p.timezone).await?;
        let days = vibe_store::rollup::rebuild(store, &p, from, to).await?;
        let funnels = store.rebuild_funnels(Some(&p.id), false).await?;
        // `rollup::rebuild` rebuilt every flow of the project.
        let flows = store.list_flows(&p.id).await?.len();
        println!(
            "{} ({}): rebuilt {from} … {to}, {days} days with activity, {funnels} funnels, {flows} flows and {revenue} revenue events, in {:.1?}",
            p.name,
            p.id,
            started.elapsed()
        );
    }
    Ok(())
}

async fn rebuild_support(
    store: &dyn vibe_store::Store,
    only: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<()> {
    let parse = |flag: &str, v: &str| {
        vibe_core::day::parse_day(v)
            .with_context(|| format!("{flag} must be a date like 2026-01-31"))
    };
    let days = match (from, to) {
        (Some(f), Some(t)) => {
            let days = (parse("--from", f)?, parse("--to", t)?);
            anyhow::ensure!(days.0 <= days.1, "--from must not be after --to");
            Some(days)
        }
        _ => None,
    };
    if let Some(id) = only {
        anyhow::ensure!(
            store.list_projects().await?.iter().any(|p| p.id == id),
            "no project with id {id}"
        );
    }
    let started = std::time::Instant::now();
    let done = store
        .rebuild_support_snapshots(only, days, Clock::default().now_ms())
        .await?;
    let what = days.map_or("all closed periods".to_owned(), |(f, t)| {
        format!("{f} … {t}")
    });
    println!(
        "support snapshots of {} project(s) rebuilt ({what}), then {} hours, {} days and {} weeks folded up to now, in {:.1?}",
        done.projects,
        done.hours,
        done.days,
        done.weeks,
        started.elapsed()
    );
    Ok(())
}

async fn import_rates(
    store: &dyn vibe_store::Store,
    file: &std::path::Path,
    only: Option<&str>,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let rows = vibe_server::api::revenue::ecb::parse(&text)
        .with_context(|| format!("{} is not an ECB reference-rate file", file.display()))?;
    let projects: Vec<_> = store
        .list_projects()
        .await?
        .into_iter()
        .filter(|p| only.is_none_or(|id| p.id == id))
        .collect();
    if projects.is_empty() {
        match only {
            Some(id) => anyhow::bail!("no project with id {id}"),
            None => anyhow::bail!("there are no projects yet"),
        }
    }
    for p in projects {
        let n = store
            .put_exchange_rates(&p.id, vibe_server::api::revenue::ecb::BASE, &rows)
            .await?;
        println!("{} ({}): {n} EUR reference rates stored", p.name, p.id);
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = App::build(config, Clock::default()).await?;
    tracing::info!(
        addr = %app.addr,
        backend = app.state.store.backend(),
        tracker_gzip_bytes = vibe_server::assets::tracker_gzip_len(),
        "vibe is listening on http://{}",
        app.addr
    );
    if let Some(url) = app.setup_url() {
        println!("\n  No owner account yet. Open this one-time link to create it:\n\n    {url}\n");
    }
    app.run(vibe_server::shutdown_signal()).await
}

fn init_logging(level: &str) {
    let level = level.parse().unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .init();
}
