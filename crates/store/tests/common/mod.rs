//! What the store's test files share.
#![allow(dead_code)]

use chrono::Utc;
use domain::{SearchRequest, SearchSpec, ValidationContext};
use sea_orm::{ConnectionTrait, Database};

/// LHR → JFK, ten departure days from ten days ahead, on the simulated provider.
pub fn spec() -> SearchSpec {
    let today = Utc::now().date_naive();
    let providers = vec!["simulated".to_string()];
    SearchSpec::parse(
        SearchRequest {
            origins: vec!["LHR".into()],
            destinations: vec!["JFK".into()],
            departure_from: today + chrono::Duration::days(10),
            departure_to: today + chrono::Duration::days(19),
            ..Default::default()
        },
        &ValidationContext {
            today,
            max_tasks: 1000,
            known_providers: &providers,
            enabled_providers: &providers,
            call_shapes: &[],
        },
    )
    .expect("valid spec")
}

/// A database of its own: an SQLite file in a temporary folder, or a PostgreSQL database
/// made for the test (dropped by [`drop_database`]).
pub struct Db {
    pub url: String,
    pub pg: Option<(String, String)>,
    pub _dir: tempfile::TempDir,
}

pub async fn database(postgres: bool) -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    if !postgres {
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("t.sqlite").display()
        );
        return Db {
            url,
            pg: None,
            _dir: dir,
        };
    }
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let conn = Database::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required at {admin}: {e}"));
    let name = format!("ff_store_{}", uuid::Uuid::new_v4().simple());
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin.clone());
    Db {
        url: format!("{base}/{name}"),
        pg: Some((admin, name)),
        _dir: dir,
    }
}

pub async fn drop_database(db: Db) {
    if let Some((admin, name)) = db.pg {
        let conn = Database::connect(&admin).await.expect("admin");
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .expect("drop");
    }
}
