//! Sessions that can be revoked: a logged-out token, a token from before `changePassword`
//! or `logOutEverywhere`, and a reused refresh token (with its family's access token) are
//! each refused with 401; `refreshSession` rotates; `changePassword` keeps this session and
//! needs the right current password. Refresh reuse has no grace here
//! (REFRESH_REUSE_GRACE_SECS=0) except in the one scenario about the grace.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{self, Backend, Session, TEST_PASSWORD, TestApp, TestDb};

const PAIR: &str = "token expiresAt refreshToken refreshExpiresAt user { email }";

/// An access token and a refresh token.
struct Pair {
    token: String,
    refresh: String,
}

fn pair_of(body: &Value, field: &str) -> Pair {
    let payload = &body["data"][field];
    let text = |key: &str| {
        payload[key]
            .as_str()
            .unwrap_or_else(|| panic!("{field} has no {key}: {body}"))
            .to_string()
    };
    Pair {
        token: text("token"),
        refresh: text("refreshToken"),
    }
}

async fn spawn(backend: Backend, grace: &str) -> (TestDb, TestApp) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &[("REFRESH_REUSE_GRACE_SECS", grace)]).await;
    (db, app)
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> Value {
    app.anonymous()
        .gql(
            &format!("mutation($e: String!, $p: String!) {{ logIn(email: $e, password: $p) {{ {PAIR} }} }}"),
            json!({"e": email, "p": password}),
        )
        .await
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Value {
    app.anonymous()
        .gql(
            &format!("mutation($r: String!) {{ refreshSession(refreshToken: $r) {{ {PAIR} }} }}"),
            json!({"r": refresh_token}),
        )
        .await
}

/// The HTTP status of `{ me { email } }` sent with `token`.
async fn me_status(session: &Session, token: &str) -> StatusCode {
    session
        .with_token(token)
        .post()
        .json(&json!({"query": "{ me { email } }"}))
        .send()
        .await
        .expect("POST /graphql")
        .status()
}

fn code_of(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error: {body}"))
        .to_string()
}

async fn a_logged_out_token_is_refused(backend: Backend) {
    let (_db, app) = spawn(backend, "0").await;
    let email = "leaver@example.com";
    app.sign_up_or_in(email).await;
    let pair = pair_of(&log_in(&app, email, TEST_PASSWORD).await, "logIn");
    let other = pair_of(&log_in(&app, email, TEST_PASSWORD).await, "logIn");
    assert_eq!(me_status(&app, &pair.token).await, StatusCode::OK);

    let out = app
        .with_token(&pair.token)
        .data("mutation { logOut }", json!({}))
        .await;
    assert_eq!(out["logOut"], true);
    assert_eq!(me_status(&app, &pair.token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        code_of(&refresh(&app, &pair.refresh).await),
        "UNAUTHENTICATED"
    );
    // Only this session ended.
    assert_eq!(me_status(&app, &other.token).await, StatusCode::OK);
}

async fn refresh_rotates_and_a_reused_refresh_token_ends_the_family(backend: Backend) {
    let (_db, app) = spawn(backend, "0").await;
    let email = "rotator@example.com";
    app.sign_up_or_in(email).await;
    let first = pair_of(&log_in(&app, email, TEST_PASSWORD).await, "logIn");

    let body = refresh(&app, &first.refresh).await;
    let second = pair_of(&body, "refreshSession");
    assert_eq!(body["data"]["refreshSession"]["user"]["email"], email);
    assert_ne!(second.refresh, first.refresh, "the refresh token rotates");
    assert_ne!(second.token, first.token);
    assert_eq!(me_status(&app, &second.token).await, StatusCode::OK);

    // A made-up secret for this session is refused and ends nothing.
    let session_id = second.refresh.split('.').next().expect("session id");
    let forged = format!("{session_id}.1.{}", "A".repeat(43));
    assert_eq!(code_of(&refresh(&app, &forged).await), "UNAUTHENTICATED");
    assert_eq!(me_status(&app, &second.token).await, StatusCode::OK);

    // The rotated-away token again: somebody else has it, so the whole family ends.
    assert_eq!(
        code_of(&refresh(&app, &first.refresh).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        me_status(&app, &second.token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status(&app, &first.token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        code_of(&refresh(&app, &second.refresh).await),
        "UNAUTHENTICATED"
    );
}

async fn log_out_everywhere_refuses_every_token(backend: Backend) {
    let (_db, app) = spawn(backend, "0").await;
    let email = "everywhere@example.com";
    app.sign_up_or_in(email).await;
    let here = pair_of(&log_in(&app, email, TEST_PASSWORD).await, "logIn");
    let there = pair_of(&log_in(&app, email, TEST_PASSWORD).await, "logIn");
    let out = app
        .with_token(&here.token)
        .data("mutation { logOutEverywhere }", json!({}))
        .await;
    assert_eq!(out["logOutEverywhere"], true);
    for pair in [&here, &there] {
        assert_eq!(me_status(&app, &pair.token).await, StatusCode::UNAUTHORIZED);
        assert_eq!(
            code_of(&refresh(&app, &pair.refresh).await),
            "UNAUTHENTICATED"
        );
    }
    // Other accounts are untouched, and logging in again works.
    assert_eq!(
        me_status(&app, app.token.as_deref().expect("token")).await,
        StatusCode::OK
    );
    let again = pair_of(&log_in(&app, email, TEST_PASSWORD).await, "logIn");
    assert_eq!(me_status(&app, &again.token).await, StatusCode::OK);
}

async fn change_password_keeps_this_session_and_ends_the_others(backend: Backend) {
    let (_db, app) = spawn(backend, "0").await;
    let email = "changer@example.com";
    let new_password = "a brand new passphrase";
    app.sign_up_or_in(email).await;
    let here = pair_of(&log_in(&app, email, TEST_PASSWORD).await, "logIn");
    let there = pair_of(&log_in(&app, email, TEST_PASSWORD).await, "logIn");
    let change = format!(
        "mutation($c: String!, $n: String!) {{ changePassword(currentPassword: $c, newPassword: $n) {{ {PAIR} }} }}"
    );

    let wrong = app
        .with_token(&here.token)
        .gql(
            &change,
            json!({"c": "not the password at all", "n": new_password}),
        )
        .await;
    assert_eq!(code_of(&wrong), "BAD_USER_INPUT", "{wrong}");
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "currentPassword");
    assert_eq!(me_status(&app, &here.token).await, StatusCode::OK);
    assert_eq!(me_status(&app, &there.token).await, StatusCode::OK);

    let body = app
        .with_token(&here.token)
        .gql(&change, json!({"c": TEST_PASSWORD, "n": new_password}))
        .await;
    let fresh = pair_of(&body, "changePassword");
    assert_eq!(me_status(&app, &fresh.token).await, StatusCode::OK);
    // Tokens from before the change are refused, this session's included; the other
    // session has ended; this one goes on with its new refresh token.
    assert_eq!(me_status(&app, &here.token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        me_status(&app, &there.token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        code_of(&refresh(&app, &there.refresh).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code_of(&refresh(&app, &here.refresh).await),
        "UNAUTHENTICATED"
    );
    let next = pair_of(&refresh(&app, &fresh.refresh).await, "refreshSession");
    assert_eq!(me_status(&app, &next.token).await, StatusCode::OK);

    assert_eq!(
        code_of(&log_in(&app, email, TEST_PASSWORD).await),
        "UNAUTHENTICATED"
    );
    pair_of(&log_in(&app, email, new_password).await, "logIn");
}

async fn a_refresh_race_within_the_grace_gets_the_same_pair(backend: Backend) {
    let (_db, app) = spawn(backend, "120").await;
    let email = "racer@example.com";
    app.sign_up_or_in(email).await;
    let first = pair_of(&log_in(&app, email, TEST_PASSWORD).await, "logIn");
    let winner = pair_of(&refresh(&app, &first.refresh).await, "refreshSession");
    let loser = pair_of(&refresh(&app, &first.refresh).await, "refreshSession");
    assert_eq!(loser.refresh, winner.refresh, "the same next refresh token");
    assert_eq!(me_status(&app, &loser.token).await, StatusCode::OK);
    let third = pair_of(&refresh(&app, &winner.refresh).await, "refreshSession");
    assert_eq!(me_status(&app, &third.token).await, StatusCode::OK);
    // Two rotations back is no race: the family ends.
    assert_eq!(
        code_of(&refresh(&app, &first.refresh).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        me_status(&app, &third.token).await,
        StatusCode::UNAUTHORIZED
    );
}

/// `logOut` without a token is UNAUTHENTICATED.
async fn log_out_needs_a_signed_in_request(backend: Backend) {
    let (_db, app) = spawn(backend, "0").await;
    let body = app.anonymous().gql("mutation { logOut }", json!({})).await;
    assert_eq!(code_of(&body), "UNAUTHENTICATED");
}

on_both_backends!(
    a_logged_out_token_is_refused,
    refresh_rotates_and_a_reused_refresh_token_ends_the_family,
    log_out_everywhere_refuses_every_token,
    change_password_keeps_this_session_and_ends_the_others,
    a_refresh_race_within_the_grace_gets_the_same_pair,
    log_out_needs_a_signed_in_request,
);
