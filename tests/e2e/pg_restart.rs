//! PostgreSQL restarted under a running search: the API reports not-ready while it is
//! away, everything reconnects, and the search ends as if nothing happened. The test
//! stops a PostgreSQL cluster of its own (`initdb` in a directory under /tmp, serving on
//! a free port), never the machine's shared one, so it runs alongside the other suites.
//! It needs PostgreSQL's server programs (`initdb`, `pg_ctl`, `createdb`); as root it runs
//! them as the `postgres` user with `runuser`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::json;

use crate::support::{Backend, TestApp, TestDb, days_from_now};

const ENV: &[(&str, &str)] = &[
    ("SIMULATED_LATENCY_MS", "10"),
    ("TASK_CONCURRENCY", "8"),
    ("CHECKPOINT_EVERY_MS", "100"),
    ("LEASE_TTL_MS", "2000"),
    ("POLL_INTERVAL_MS", "200"),
];

/// A PostgreSQL cluster of this test's own, in `/tmp/ff-pg-<uuid>` on a free port of
/// 127.0.0.1. Dropping it stops it (`pg_ctl -m immediate`) and removes the directory,
/// also when the test panics.
pub(crate) struct OwnCluster {
    /// Where `initdb`, `pg_ctl` and `createdb` are.
    bin: PathBuf,
    dir: PathBuf,
    pub(crate) port: u16,
    /// Root may not run the server: the programs run as `postgres` (`runuser`).
    as_postgres: bool,
}

impl OwnCluster {
    pub(crate) fn start_new() -> Self {
        let cluster = Self::empty();
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ],
        );
        cluster.configure();
        cluster.start();
        cluster
    }

    /// A streaming standby of `primary` (`pg_basebackup -R`), started, on a port of its own.
    pub(crate) fn standby_of(primary: &OwnCluster) -> Self {
        let standby = Self::empty();
        standby.run(
            "pg_basebackup",
            &[
                "-D",
                &standby.data(),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                "postgres",
            ],
        );
        // The copied postgresql.conf names the primary's port; a later line wins.
        standby.configure();
        standby.start();
        standby
    }

    /// A directory for a cluster, owned by the user that runs it, and a free port.
    fn empty() -> Self {
        let bin = postgres_bin_dir();
        let as_postgres = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        if as_postgres {
            assert!(
                Command::new("runuser").arg("--help").output().is_ok(),
                "this test runs its own PostgreSQL cluster, and as root it needs `runuser` to run it as the `postgres` user"
            );
        }
        // Directly under /tmp: the `postgres` user cannot enter a 0700 temp dir of root's.
        let dir = PathBuf::from(format!("/tmp/ff-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let cluster = Self {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        if as_postgres {
            let out = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&cluster.dir)
                .output()
                .expect("run chown");
            assert!(
                out.status.success(),
                "chown postgres {}: {}",
                cluster.dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        cluster
    }

    /// This cluster's port, socket directory and test settings, after the defaults.
    fn configure(&self) {
        let cluster = self;
        let data = cluster.data();
        let conf = format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\n",
            cluster.port,
            cluster.dir.display()
        );
        let conf_path = Path::new(&data).join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).expect("read postgresql.conf");
        text.push_str(&conf);
        std::fs::write(&conf_path, text).expect("write postgresql.conf");
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Runs one of PostgreSQL's programs (as `postgres` when we are root).
    fn output(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", path.display()))
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.output(program, args);
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// Starts the server on the same port and data directory, and waits until it accepts
    /// connections.
    pub(crate) fn start(&self) {
        let log = self.dir.join("log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-l", &log, "-w", "-t", "60", "start"],
        );
    }

    /// Appends `setting` to the cluster's configuration and reloads it.
    pub(crate) fn reconfigure(&self, setting: &str) {
        let path = Path::new(&self.data()).join("postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&format!("\n{setting}\n"));
        std::fs::write(&path, text).expect("write postgresql.auto.conf");
        self.run("pg_ctl", &["-D", &self.data(), "reload"]);
    }

    /// `pg_ctl stop -m fast`, as `pg_ctlcluster stop` does: sessions are ended, and it
    /// waits until the server is gone.
    pub(crate) fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "fast", "-w", "-t", "60", "stop"],
        );
    }

    /// A database of its own on this cluster; the cluster goes with all its databases.
    pub(crate) fn database(&self, name: &str) -> TestDb {
        self.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ],
        );
        TestDb::at(
            Backend::Postgres,
            format!("postgres://postgres@127.0.0.1:{}/{name}", self.port),
        )
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the test's PostgreSQL log:\n{}", self.log());
        }
        // Fails harmlessly when the server is not running (stopped, or never started).
        let _ = self.output(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-m",
                "immediate",
                "-w",
                "-t",
                "60",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory of `initdb` and `pg_ctl`: the newest /usr/lib/postgresql/N/bin (Debian's
/// layout), else the first on PATH. Missing, the test fails: it never skips.
fn postgres_bin_dir() -> PathBuf {
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin);
    let on_path = || {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    };
    debian.or_else(on_path).unwrap_or_else(|| {
        panic!(
            "this test runs a PostgreSQL cluster of its own and needs PostgreSQL's server programs \
             (initdb, pg_ctl): none in /usr/lib/postgresql/*/bin or on PATH (Debian: apt-get install postgresql)"
        )
    })
}

/// A port of 127.0.0.1 that nothing listens on: bound, then let go.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn offers(conn: &DatabaseConnection) -> (String, i64, i64, Vec<(String, i64)>) {
    let job = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id::text AS id, status, completed_tasks, found_flights FROM search_jobs",
        ))
        .await
        .expect("job")
        .expect("row");
    let id: String = job.try_get("", "id").expect("id");
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT offer_key, price_minor FROM flight_offers WHERE job_id = '{id}' ORDER BY offer_key"),
        ))
        .await
        .expect("offers");
    (
        job.try_get("", "status").expect("status"),
        job.try_get("", "completed_tasks").expect("completed"),
        job.try_get("", "found_flights").expect("found"),
        rows.iter()
            .map(|r| {
                (
                    r.try_get("", "offer_key").expect("key"),
                    r.try_get("", "price_minor").expect("price"),
                )
            })
            .collect(),
    )
}

fn input() -> serde_json::Value {
    json!({
        "origins": ["LHR", "LGW"],
        "destinations": ["BKK", "SIN", "HND"],
        "departureFrom": days_from_now(20),
        "departureTo": days_from_now(49),
        "nights": {"min": 7, "max": 14},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_survives_a_postgresql_restart() {
    let cluster = OwnCluster::start_new();
    let reference_db = cluster.database("ff_reference");
    let reference_app = TestApp::spawn_with(&reference_db, ENV).await;
    let id = reference_app.start_search(input()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    reference_app
        .follow_progress(&id, Duration::from_secs(120))
        .await;
    reference_app.kill().await;
    let reference = offers(&reference_db.connect().await).await;
    assert_eq!(reference.0, "SUCCEEDED");

    let db = cluster.database("ff_restart");
    let app = TestApp::spawn_with(&db, ENV).await;
    let job = app.start_search(input()).await;
    let id = job["id"].as_str().expect("id").to_string();
    let total = job["totalTasks"].as_i64().expect("total");
    let started = tokio::time::Instant::now();
    loop {
        let done = app.job(&id).await["completedTasks"]
            .as_i64()
            .expect("completed");
        assert!(
            done < total,
            "finished before the restart; make the search longer"
        );
        if done >= total / 4 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    cluster.stop();
    let ready = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    let down_status = ready.status().as_u16();
    let health = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz")
        .status()
        .as_u16();
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.start();
    assert_eq!(down_status, 503, "/readyz while the database is away");
    assert_eq!(health, 200, "/healthz while the database is away");

    // Ready again once the database is back.
    let back = tokio::time::Instant::now();
    loop {
        let r = app
            .http
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz");
        if r.status().as_u16() == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "never ready again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = app.follow_progress(&id, Duration::from_secs(120)).await;
    assert_eq!(
        events.last().expect("events")["status"],
        "SUCCEEDED",
        "{events:?}"
    );
    app.kill().await;

    let after = offers(&db.connect().await).await;
    assert_eq!(after.0, "SUCCEEDED");
    assert_eq!(after.1, total, "every task counted once");
    assert_eq!(after.2, after.3.len() as i64);
    assert!(
        after.3 == reference.3,
        "the same offers as an uninterrupted run"
    );
}
