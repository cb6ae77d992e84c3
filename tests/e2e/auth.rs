//! Accounts and authorization, from outside: who may call what (the whole matrix), tokens
//! that must be refused, passwords that must never be kept or logged in clear, and the
//! start-up rules for secrets.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::{
    BIN, Backend, Session, TEST_EMAIL, TEST_JWT_SECRET, TEST_PASSWORD, TestApp, TestDb, WsClient,
    base_env, days_from_now,
};

fn small_search() -> Value {
    json!({
        "origins": ["LHR"],
        "destinations": ["JFK"],
        "departureFrom": days_from_now(20),
        "departureTo": days_from_now(22),
        "providers": ["simulated"],
    })
}

/// What a call gave: OK, or the code of its first error.
fn outcome(body: &Value) -> String {
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => code.to_string(),
        None if body.get("errors").is_some() => format!("error without a code: {body}"),
        None => "OK".to_string(),
    }
}

const CALLERS: [&str; 4] = ["anonymous", "user A", "user B", "admin"];

struct Matrix {
    rows: Vec<(String, [String; 4], [String; 4])>,
}

impl Matrix {
    fn record(&mut self, what: &str, expected: [&str; 4], got: [String; 4]) {
        self.rows
            .push((what.to_string(), expected.map(str::to_string), got));
    }

    fn assert_all(&self) {
        let mut table = String::new();
        let mut wrong = 0;
        for (what, expected, got) in &self.rows {
            for i in 0..4 {
                if expected[i] != got[i] {
                    wrong += 1;
                    table.push_str(&format!(
                        "{what} as {}: expected {}, got {}\n",
                        CALLERS[i], expected[i], got[i]
                    ));
                }
            }
        }
        assert_eq!(
            wrong,
            0,
            "{wrong} of {} checks differ:\n{table}",
            self.rows.len() * 4
        );
    }
}

async fn job_status(session: &Session, id: &str) -> Value {
    session
        .data(
            "query($id: UUID!) { job(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await["job"]["status"]
        .clone()
}

/// Every query, mutation and subscription × nobody, the owner (A), another user (B) and
/// an admin, each with its expected outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorization_matrix() {
    let db = TestDb::new(Backend::Postgres).await;

    // A finished search of A's, with offers, made with a worker.
    let with_worker = TestApp::spawn(&db).await;
    let a = with_worker.sign_up_or_in("a@example.com").await;
    let finished = a.start_search(small_search()).await;
    let finished_id = finished["id"].as_str().expect("id").to_string();
    let events = a
        .follow_progress(&finished_id, Duration::from_secs(60))
        .await;
    assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    with_worker.kill().await;

    // The rest without a worker: new searches stay QUEUED, so their state is known.
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let anon = app.anonymous();
    let a = app.sign_up_or_in("a@example.com").await;
    let b = app.sign_up_or_in("b@example.com").await;
    let admin = app.admin().await;
    let callers = [&anon, &a, &b, &admin];
    let offer_id = a
        .data(
            "query($j: UUID!) { flights(jobId: $j, first: 1) { nodes { id } } }",
            json!({ "j": finished_id }),
        )
        .await["flights"]["nodes"][0]["id"]
        .as_str()
        .expect("an offer")
        .to_string();
    let b_id = b.data("{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let flight = admin
        .data(
            "mutation($i: InventoryFlightInput!) { upsertInventoryFlight(input: $i) { id } }",
            json!({ "i": {
                "flightNumber": "BA117", "airline": "BA", "origin": "LHR", "destination": "JFK",
                "departure": "2030-03-01T08:30", "arrival": "2030-03-01T11:25",
                "price": 49990, "currency": "GBP", "seatsTotal": 200
            }}),
        )
        .await["upsertInventoryFlight"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (status, uploaded) = admin
        .upload(
            "few.csv",
            std::fs::read("../../data/sample-inventory.csv").expect("sample"),
        )
        .await;
    assert!(status.is_success(), "{uploaded}");
    let import_id = uploaded["data"]["importFlights"]["id"]
        .as_str()
        .expect("import id")
        .to_string();

    let mut m = Matrix { rows: Vec::new() };
    const OK: &str = "OK";
    const UNAUTH: &str = "UNAUTHENTICATED";
    const FORBIDDEN: &str = "FORBIDDEN";
    const NOT_FOUND: &str = "NOT_FOUND";

    // Each read, by every caller.
    let reads: Vec<(&str, &str, Value, [&str; 4])> = vec![
        ("me", "{ me { id } }", json!({}), [OK, OK, OK, OK]),
        (
            "users",
            "{ users { nodes { id email role } } }",
            json!({}),
            [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            "job",
            "query($j: UUID!) { job(id: $j) { id } }",
            json!({"j": finished_id}),
            [UNAUTH, OK, NOT_FOUND, OK],
        ),
        (
            "jobs",
            "{ jobs { nodes { id } } }",
            json!({}),
            [UNAUTH, OK, OK, OK],
        ),
        (
            "jobs(scope: ALL)",
            "{ jobs(scope: ALL) { nodes { id } } }",
            json!({}),
            [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            "flights",
            "query($j: UUID!) { flights(jobId: $j) { nodes { id } } }",
            json!({"j": finished_id}),
            [UNAUTH, OK, NOT_FOUND, OK],
        ),
        (
            "flight",
            "query($o: UUID!) { flight(id: $o) { id } }",
            json!({"o": offer_id}),
            [UNAUTH, OK, NOT_FOUND, OK],
        ),
        (
            "priceCalendar",
            "query($j: UUID!) { priceCalendar(jobId: $j) { departureDate } }",
            json!({"j": finished_id}),
            [UNAUTH, OK, NOT_FOUND, OK],
        ),
        (
            "airports",
            "{ airports(query: \"LHR\") { code } }",
            json!({}),
            [OK, OK, OK, OK],
        ),
        (
            "providers",
            "{ providers { name kind enabled capabilities { dateWindowDays } } }",
            json!({}),
            [OK, OK, OK, OK],
        ),
        (
            "providers.health",
            "{ providers { health { calls } } }",
            json!({}),
            [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            "providers.baseUrl",
            "{ providers { baseUrl } }",
            json!({}),
            [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            "inventory",
            "{ inventory { nodes { id } } }",
            json!({}),
            [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            "import",
            "query($i: UUID!) { import(id: $i) { id } }",
            json!({"i": import_id}),
            [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            "imports",
            "{ imports { nodes { id } } }",
            json!({}),
            [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            "SearchJob.owner",
            "query($j: UUID!) { job(id: $j) { owner { email } } }",
            json!({"j": finished_id}),
            [UNAUTH, OK, NOT_FOUND, OK],
        ),
        (
            "SearchJob.bestPriceHistory",
            "query($j: UUID!) { job(id: $j) { bestPriceHistory { at } } }",
            json!({"j": finished_id}),
            [UNAUTH, OK, NOT_FOUND, OK],
        ),
        (
            "FlightOffer.job.owner",
            "query($o: UUID!) { flight(id: $o) { job { owner { email } } } }",
            json!({"o": offer_id}),
            [UNAUTH, OK, NOT_FOUND, OK],
        ),
    ];
    for (what, query, vars, expected) in reads {
        let mut got: [String; 4] = Default::default();
        for (i, caller) in callers.iter().enumerate() {
            got[i] = outcome(&caller.gql(query, vars.clone()).await);
        }
        m.record(what, expected, got);
    }
    // Lists show each caller their own searches; admins everybody's with scope ALL.
    let ids = |v: &Value| v.to_string();
    assert!(ids(&a.data("{ jobs { nodes { id } } }", json!({})).await).contains(&finished_id));
    assert!(!ids(&b.data("{ jobs { nodes { id } } }", json!({})).await).contains(&finished_id));
    assert!(!ids(&admin.data("{ jobs { nodes { id } } }", json!({})).await).contains(&finished_id));
    assert!(
        ids(&admin
            .data("{ jobs(scope: ALL) { nodes { id } } }", json!({}))
            .await)
        .contains(&finished_id)
    );

    // Search mutations on a fresh search of A's per caller, so each starts from the same state.
    for (what, prepare, mutation) in [
        (
            "cancelSearch",
            None,
            "mutation($j: UUID!) { cancelSearch(id: $j) { status } }",
        ),
        (
            "pauseSearch",
            None,
            "mutation($j: UUID!) { pauseSearch(id: $j) { status } }",
        ),
        (
            "resumeSearch",
            Some("mutation($j: UUID!) { pauseSearch(id: $j) { status } }"),
            "mutation($j: UUID!) { resumeSearch(id: $j) { status } }",
        ),
    ] {
        let mut got: [String; 4] = Default::default();
        for (i, caller) in callers.iter().enumerate() {
            let job = a.start_search(small_search()).await;
            let id = job["id"].as_str().expect("id").to_string();
            if let Some(p) = prepare {
                a.data(p, json!({ "j": id })).await;
            }
            let before = job_status(&a, &id).await;
            got[i] = outcome(&caller.gql(mutation, json!({ "j": id })).await);
            if got[i] != OK {
                assert_eq!(
                    job_status(&a, &id).await,
                    before,
                    "{what} refused yet changed the job"
                );
            }
        }
        m.record(what, [UNAUTH, OK, NOT_FOUND, OK], got);
    }

    // Mutations that create or change things.
    let mut got: [String; 4] = Default::default();
    for (i, caller) in callers.iter().enumerate() {
        got[i] = outcome(
            &caller
                .gql(
                    "mutation($i: SearchInput!) { startSearch(input: $i) { id } }",
                    json!({ "i": small_search() }),
                )
                .await,
        );
    }
    m.record("startSearch", [UNAUTH, OK, OK, OK], got);

    let mut got: [String; 4] = Default::default();
    for (i, caller) in callers.iter().enumerate() {
        got[i] = outcome(&caller.gql(
            "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token } }",
            json!({ "e": format!("new{i}@example.com"), "p": TEST_PASSWORD }),
        ).await);
    }
    m.record("signUp", [OK, OK, OK, OK], got);

    let mut got: [String; 4] = Default::default();
    for (i, caller) in callers.iter().enumerate() {
        got[i] = outcome(&caller.gql(
            "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }",
            json!({ "e": "a@example.com", "p": TEST_PASSWORD }),
        ).await);
    }
    m.record("logIn", [OK, OK, OK, OK], got);

    let upsert = |n: usize| {
        json!({ "i": {
            "flightNumber": format!("LH{}", 400 + n), "airline": "LH", "origin": "FRA", "destination": "JFK",
            "departure": "2030-03-01T10:05", "arrival": "2030-03-01T12:50",
            "price": 245000, "currency": "EUR", "seatsTotal": 40
        }})
    };
    let mut got: [String; 4] = Default::default();
    for (i, caller) in callers.iter().enumerate() {
        got[i] = outcome(&caller.gql(
            "mutation($i: InventoryFlightInput!) { upsertInventoryFlight(input: $i) { id } }",
            upsert(i),
        ).await);
    }
    m.record(
        "upsertInventoryFlight",
        [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        got,
    );

    let mut got: [String; 4] = Default::default();
    for (i, caller) in callers.iter().enumerate() {
        got[i] = outcome(
            &caller
                .gql(
                    "mutation($id: UUID!) { deleteInventoryFlight(id: $id) }",
                    json!({ "id": flight }),
                )
                .await,
        );
    }
    m.record(
        "deleteInventoryFlight",
        [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        got,
    );

    let mut got: [String; 4] = Default::default();
    for (i, caller) in callers.iter().enumerate() {
        got[i] = outcome(
            &caller
                .gql("mutation { createSocketTicket { ticket } }", json!({}))
                .await,
        );
    }
    m.record("createSocketTicket", [UNAUTH, OK, OK, OK], got);

    let mut got: [String; 4] = Default::default();
    for (i, caller) in callers.iter().enumerate() {
        got[i] = outcome(
            &caller
                .gql(
                    "mutation { setProviderEnabled(name: \"simulated\", enabled: true) { enabled } }",
                    json!({}),
                )
                .await,
        );
    }
    m.record(
        "setProviderEnabled",
        [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        got,
    );

    let mut got: [String; 4] = Default::default();
    for (i, caller) in callers.iter().enumerate() {
        got[i] = outcome(
            &caller
                .gql(
                    "mutation($u: UUID!) { setUserRole(userId: $u, role: USER) { role } }",
                    json!({ "u": b_id }),
                )
                .await,
        );
    }
    m.record("setUserRole", [UNAUTH, FORBIDDEN, FORBIDDEN, OK], got);

    // Uploads are refused before the body is read.
    let mut got: [String; 4] = Default::default();
    for (i, caller) in callers.iter().enumerate() {
        let (status, body) = caller.upload("x.csv", b"flight_number\n".to_vec()).await;
        got[i] = outcome(&body);
        let want = match i {
            0 => reqwest::StatusCode::UNAUTHORIZED,
            1 | 2 => reqwest::StatusCode::FORBIDDEN,
            _ => reqwest::StatusCode::OK,
        };
        assert_eq!(status, want, "importFlights as {}", CALLERS[i]);
    }
    m.record("importFlights", [UNAUTH, FORBIDDEN, FORBIDDEN, OK], got);

    // Subscriptions: nobody cannot even open the socket (4401); the others get the
    // first message or the error.
    for (what, query, vars, expected) in [
        (
            "jobProgress",
            "subscription($j: UUID!) { jobProgress(jobId: $j) { status } }",
            json!({ "j": finished_id }),
            [UNAUTH, OK, NOT_FOUND, OK],
        ),
        (
            "importProgress",
            "subscription($i: UUID!) { importProgress(id: $i) { status } }",
            json!({ "i": import_id }),
            [UNAUTH, FORBIDDEN, FORBIDDEN, OK],
        ),
    ] {
        let mut got: [String; 4] = Default::default();
        for (i, caller) in callers.iter().enumerate() {
            let mut ws = WsClient::connect(caller).await;
            if caller.token.is_none() {
                ws.send_json(json!({"type": "connection_init", "payload": {}}))
                    .await;
                let (code, _) = ws.close_code().await;
                got[i] = if code == 4401 {
                    UNAUTH.into()
                } else {
                    format!("close {code}")
                };
                continue;
            }
            ws.init().await;
            ws.subscribe("1", query, vars.clone()).await;
            let first = ws.next_json().await.expect("a message");
            got[i] = match first["type"].as_str() {
                Some("next") => outcome(&first["payload"]),
                other => format!("{other:?}: {first}"),
            };
        }
        m.record(what, expected, got);
    }
    m.assert_all();
}

/// Claims for a hand-made token in the session of `real`, a token the API issued (so the
/// session and token version are right, and only what a case changes is wrong).
fn claims(real: &str, exp_offset: i64, aud: &str, iss: &str, role: &str, sub: &str) -> Value {
    let payload = real.split('.').nth(1).expect("a JWT");
    let issued: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json");
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": sub, "role": role, "iat": now, "exp": now + exp_offset, "iss": iss, "aud": aud,
        "jti": uuid::Uuid::now_v7().to_string(),
        "sid": issued["sid"], "ver": issued["ver"], "sx": issued["sx"],
    })
}

fn sign(claims: &Value, alg: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret))
        .expect("sign")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_expired_and_tampered_tokens_are_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let admin = app.admin().await;
    let user_id = app.data("{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let secret = TEST_JWT_SECRET.as_bytes();
    let real = app.token.clone().expect("token");
    let good = claims(&real, 600, "fast-flights", "fast-flights", "USER", &user_id);
    // The same claims, correctly signed, work: the refusals below are about one thing each.
    let valid = sign(&good, Algorithm::HS256, secret);
    let me = app
        .anonymous()
        .with_token(&valid)
        .gql("{ me { id } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["id"], user_id.as_str(), "{me}");

    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    let tampered = {
        let token = app.token.clone().expect("token");
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64")).expect("json");
        payload["role"] = json!("ADMIN");
        parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
        parts.join(".")
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "another key",
            sign(&good, Algorithm::HS256, b"another-secret-another-secret-12"),
            "signature",
        ),
        (
            "expired",
            sign(
                &claims(
                    &real,
                    -120,
                    "fast-flights",
                    "fast-flights",
                    "USER",
                    &user_id,
                ),
                Algorithm::HS256,
                secret,
            ),
            "expired",
        ),
        ("alg none", none, "malformed"),
        (
            "HS512 where HS256 is pinned",
            sign(&good, Algorithm::HS512, secret),
            "algorithm",
        ),
        (
            "wrong audience",
            sign(
                &claims(&real, 600, "someone-else", "fast-flights", "USER", &user_id),
                Algorithm::HS256,
                secret,
            ),
            "audience",
        ),
        (
            "wrong issuer",
            sign(
                &claims(&real, 600, "fast-flights", "evil", "USER", &user_id),
                Algorithm::HS256,
                secret,
            ),
            "issuer",
        ),
        ("tampered payload", tampered, "signature"),
        ("not a JWT", "abc.def".into(), "malformed"),
        (
            "issued in the future",
            {
                let mut c = good.clone();
                c["iat"] = json!(chrono::Utc::now().timestamp() + 3_600);
                c["exp"] = json!(chrono::Utc::now().timestamp() + 7_200);
                sign(&c, Algorithm::HS256, secret)
            },
            "future",
        ),
        (
            "unknown account",
            sign(
                &claims(
                    &real,
                    600,
                    "fast-flights",
                    "fast-flights",
                    "ADMIN",
                    &uuid::Uuid::now_v7().to_string(),
                ),
                Algorithm::HS256,
                secret,
            ),
            "no longer exists",
        ),
    ];
    for (what, token, why) in &cases {
        let response = app
            .anonymous()
            .post()
            .bearer_auth(token)
            .json(&json!({ "query": "{ me { id } users { nodes { id } } }" }))
            .send()
            .await
            .expect("POST");
        assert_eq!(
            response.status(),
            reqwest::StatusCode::UNAUTHORIZED,
            "{what}"
        );
        assert!(
            response.headers().contains_key("www-authenticate"),
            "{what}"
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{what}: {body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{what}: `{why}` in {message}");
        assert!(body.get("data").is_none(), "{what}: nothing ran: {body}");

        // The websocket refuses the same tokens with 4403.
        let mut ws = WsClient::connect(&app.anonymous().with_token(token)).await;
        ws.send_json(json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}))
            .await;
        assert_eq!(ws.close_code().await.0, 4403, "{what} over the websocket");
    }
    let garbled = app
        .anonymous()
        .post()
        .header("authorization", "Token abc")
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(garbled.status(), reqwest::StatusCode::UNAUTHORIZED);
    // Two Authorization headers are one too many, even if one is good.
    let two = app
        .post()
        .header("authorization", "Bearer abc")
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(two.status(), reqwest::StatusCode::UNAUTHORIZED);

    // A role change counts at once, whatever the token says.
    let promoted = admin
        .data(
            "mutation($u: UUID!) { setUserRole(userId: $u, role: ADMIN) { role } }",
            json!({ "u": user_id }),
        )
        .await;
    assert_eq!(promoted["setUserRole"]["role"], "ADMIN");
    assert!(
        app.gql("{ users { nodes { id } } }", json!({}))
            .await
            .get("errors")
            .is_none()
    );
    admin
        .data(
            "mutation($u: UUID!) { setUserRole(userId: $u, role: USER) { role } }",
            json!({ "u": user_id }),
        )
        .await;
    assert_eq!(
        outcome(&app.gql("{ users { nodes { id } } }", json!({})).await),
        "FORBIDDEN"
    );
    let admin_id = admin.data("{ me { id } }", json!({})).await["me"]["id"].clone();
    assert_eq!(
        outcome(
            &admin
                .gql(
                    "mutation($u: UUID!) { setUserRole(userId: $u, role: USER) { role } }",
                    json!({ "u": admin_id }),
                )
                .await
        ),
        "CONFLICT",
        "an admin cannot demote themselves"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_hashed_never_stored_or_logged_in_clear() {
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_with(&db, &[("RUST_LOG", "debug")]).await;
    let password = "Tr0ub4dor&3-very-secret";
    let signed = app
        .anonymous()
        .gql(
            "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token expiresAt user { email role } } }",
            json!({ "e": "  Carol@Example.COM ", "p": password }),
        )
        .await;
    assert_eq!(
        signed["data"]["signUp"]["user"]["email"], "carol@example.com",
        "{signed}"
    );
    assert_eq!(signed["data"]["signUp"]["user"]["role"], "USER");
    // The same address in another case is the same account.
    let again = app
        .anonymous()
        .gql(
            "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token } }",
            json!({ "e": "CAROL@example.com", "p": password }),
        )
        .await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(again["errors"][0]["extensions"]["field"], "email");

    let conn = db.connect().await;
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT password_hash FROM users WHERE email = 'carol@example.com'".to_string(),
        ))
        .await
        .expect("query")
        .expect("row");
    let hash: String = row.try_get("", "password_hash").expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(password));
    let dump = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT * FROM users".to_string(),
        ))
        .await
        .expect("query");
    assert!(!format!("{dump:?}").contains(password));

    let anon = app.anonymous();
    let wrong = anon
        .gql(
            "mutation { logIn(email: \"carol@example.com\", password: \"not the password\") { token } }",
            json!({}),
        )
        .await;
    let unknown = anon
        .gql(
            "mutation { logIn(email: \"nobody@example.com\", password: \"not the password\") { token } }",
            json!({}),
        )
        .await;
    for refused in [&wrong, &unknown] {
        assert_eq!(
            refused["errors"][0]["extensions"]["code"],
            "UNAUTHENTICATED"
        );
        assert_eq!(refused["errors"][0]["message"], "wrong email or password");
    }
    assert!(anon.log_in("carol@example.com", password).await.len() > 20);
    for bad in [
        json!({ "e": "not-an-email", "p": password, "field": "email" }),
        json!({ "e": "dave@example.com", "p": "short", "field": "password" }),
    ] {
        let body = anon
            .gql(
                "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token } }",
                bad.clone(),
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["field"], bad["field"],
            "{body}"
        );
    }
    let log = app.log();
    assert!(log.contains("account created"), "the log is read: {log}");
    assert!(!log.contains(password), "the password is in the log");
    assert!(
        !log.contains(TEST_PASSWORD),
        "the test password is in the log"
    );
}

/// Runs the binary with `args` and `env` to its exit.
async fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut base = base_env();
    base.remove("JWT_SECRET");
    tokio::process::Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(base)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run fast-flights")
}

#[tokio::test]
async fn production_mode_refuses_to_start_without_a_secret() {
    let db = TestDb::new(Backend::Sqlite).await;
    let out = run(
        &["serve"],
        &[
            ("DATABASE_URL", &db.url),
            ("FAST_FLIGHTS_ENV", "production"),
        ],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("JWT_SECRET is not set") && stderr.contains("production"),
        "{stderr}"
    );

    let out = run(
        &["serve"],
        &[("DATABASE_URL", &db.url), ("JWT_SECRET", "too-short")],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    assert!(
        !stderr.contains("too-short"),
        "the secret is echoed: {stderr}"
    );

    let out = run(
        &["serve"],
        &[
            ("DATABASE_URL", &db.url),
            ("JWT_ALGORITHM", "RS256"),
            ("FAST_FLIGHTS_ENV", "production"),
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_PRIVATE_KEY_FILE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn development_mode_makes_up_a_secret_and_says_so() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("JWT_SECRET", "")]).await;
    assert!(app.token.is_some());
    assert!(app.data("{ me { email } }", json!({})).await["me"]["email"] == TEST_EMAIL);
    assert!(app.log().contains("JWT_SECRET is not set"), "{}", app.log());
}

#[tokio::test]
async fn the_first_admin_is_made_from_the_command_line() {
    let db = TestDb::new(Backend::Sqlite).await;
    // From stdin.
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "user",
            "create",
            "--email",
            "Root@Example.com",
            "--role",
            "admin",
        ])
        .env("DATABASE_URL", &db.url)
        .env_remove("FAST_FLIGHTS_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"a long admin password\n")
            .await
            .expect("write");
    }
    let out = child.wait_with_output().await.expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("created ADMIN account root@example.com"),
        "{stdout}"
    );

    // Again: the address is taken.
    let out = run(
        &["user", "create", "--email", "root@example.com"],
        &[
            ("DATABASE_URL", &db.url),
            ("FAST_FLIGHTS_PASSWORD", "another long password"),
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
    // A short password, a bad address, no password at all.
    for (args, env_password, expect) in [
        (
            vec!["user", "create", "--email", "x@example.com"],
            Some("short"),
            "at least 10 characters",
        ),
        (
            vec!["user", "create", "--email", "nope"],
            Some("long enough password"),
            "not an email address",
        ),
        (
            vec!["user", "create", "--email", "y@example.com"],
            None,
            "no password",
        ),
    ] {
        let mut env = vec![("DATABASE_URL", db.url.as_str())];
        if let Some(p) = env_password {
            env.push(("FAST_FLIGHTS_PASSWORD", p));
        }
        let out = run(&args, &env).await;
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    }
    // There is no flag for a password.
    let out = run(
        &[
            "user",
            "create",
            "--email",
            "z@example.com",
            "--password",
            "in the process list",
        ],
        &[("DATABASE_URL", &db.url)],
    )
    .await;
    assert!(!out.status.success());

    // The admin signs in through the API.
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let token = app
        .anonymous()
        .log_in("root@example.com", "a long admin password")
        .await;
    let me = app
        .anonymous()
        .with_token(&token)
        .data("{ me { role } users { nodes { email } } }", json!({}))
        .await;
    assert_eq!(me["me"]["role"], "ADMIN");

    // set-role promotes an existing account.
    let out = run(
        &["user", "set-role", "--email", TEST_EMAIL, "--role", "admin"],
        &[("DATABASE_URL", &db.url)],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        app.data("{ me { role } }", json!({})).await["me"]["role"],
        "ADMIN"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eddsa_keys_sign_and_other_algorithms_are_refused() {
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let dir = tempfile::tempdir().expect("dir");
    let private = dir.path().join("jwt.key");
    let public = dir.path().join("jwt.pub");
    std::fs::write(
        &private,
        key.to_pkcs8_pem(LineEnding::LF).expect("pem").as_bytes(),
    )
    .expect("write");
    std::fs::write(
        &public,
        key.verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("pem"),
    )
    .expect("write");
    let db = TestDb::new(Backend::Sqlite).await;
    let (private, public) = (private.display().to_string(), public.display().to_string());
    // Production mode is content with keys: no secret needed.
    let app = TestApp::spawn_with(
        &db,
        &[
            ("FAST_FLIGHTS_ENV", "production"),
            ("JWT_ALGORITHM", "EdDSA"),
            ("JWT_PRIVATE_KEY_FILE", &private),
            ("JWT_PUBLIC_KEY_FILE", &public),
            ("NO_WORKER", "true"),
        ],
    )
    .await;
    let token = app.token.clone().expect("signed up");
    let header = jsonwebtoken::decode_header(&token).expect("header");
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(
        app.data("{ me { email } }", json!({})).await["me"]["email"],
        TEST_EMAIL
    );
    // The HS256 test secret means nothing to this server.
    let user_id = app.data("{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let real = token.clone();
    let hs = sign(
        &claims(&real, 600, "fast-flights", "fast-flights", "USER", &user_id),
        Algorithm::HS256,
        TEST_JWT_SECRET.as_bytes(),
    );
    let refused = app
        .anonymous()
        .with_token(&hs)
        .post()
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.expect("json");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("algorithm"),
        "{body}"
    );

    // A key file that is not a key is named at start-up.
    std::fs::write(dir.path().join("bad.pub"), "not a key").expect("write");
    let bad = dir.path().join("bad.pub").display().to_string();
    let out = run(
        &["serve"],
        &[
            ("DATABASE_URL", &db.url),
            ("JWT_ALGORITHM", "EdDSA"),
            ("JWT_PRIVATE_KEY_FILE", &private),
            ("JWT_PUBLIC_KEY_FILE", &bad),
        ],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("public key"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guessing_is_slowed_down() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let anon = app.anonymous();
    // Aliases cannot make one request into many guesses.
    let response = anon
        .post()
        .json(&json!({
            "query": "mutation { a: logIn(email: \"tester@example.com\", password: \"guess one!!\") { token }
                        b: logIn(email: \"tester@example.com\", password: \"guess two!!\") { token } }",
        }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 400, "a request error");
    let aliased: Value = response.json().await.expect("JSON");
    let codes: Vec<&str> = aliased["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["extensions"]["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        ["TOO_MANY_MUTATIONS"],
        "the request is refused whole, no guess runs: {aliased}"
    );
    assert!(aliased.get("data").is_none_or(Value::is_null), "{aliased}");
    // Five wrong passwords in a row back this address off this account for a while, the
    // right password included; the answer says when to come back.
    for _ in 0..5 {
        let body = anon
            .gql(
                "mutation { logIn(email: \"tester@example.com\", password: \"wrong password\") { token } }",
                json!({}),
            )
            .await;
        assert_eq!(outcome(&body), "UNAUTHENTICATED", "{body}");
    }
    let backed_off = anon
        .gql(
            "mutation($p: String!) { logIn(email: \"tester@example.com\", password: $p) { token } }",
            json!({ "p": TEST_PASSWORD }),
        )
        .await;
    assert_eq!(outcome(&backed_off), "RATE_LIMITED", "{backed_off}");
    assert!(
        backed_off["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("try again in")
    );
    assert!(
        backed_off["errors"][0]["extensions"]["retryAfterSeconds"].as_u64() >= Some(1),
        "{backed_off}"
    );
    // The owner from another address is never refused because of it (tests/e2e/login_limits
    // covers this and the per-address budget in full).
    let elsewhere = Session {
        http: reqwest::Client::builder()
            .local_address("127.0.0.2".parse::<std::net::IpAddr>().expect("ip"))
            .build()
            .expect("client"),
        ..anon.clone()
    };
    elsewhere.log_in(TEST_EMAIL, TEST_PASSWORD).await;
    // Other accounts are not affected.
    let other = app.sign_up_or_in("someone@example.com").await;
    assert!(other.token.is_some());
}
