//! GraphQL over HTTP as the GraphQL-over-HTTP specification words it: POST with
//! `application/json`, GET for queries only, and either `application/json` or
//! `application/graphql-response+json` answers with the status codes each asks for.

use async_graphql::parser::types::OperationType;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{self, Caller};
use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::phase::Phase;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";
const MULTIPART: &str = "multipart/form-data";

/// Largest JSON request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// What a multipart request may carry beyond its file: the operations, the map, boundaries.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// Which media type the client accepts, best first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponse,
    Json,
}

impl MediaType {
    fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }
}

fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::Json);
    };
    // (q, specificity, kind): the highest q wins; at equal q an explicit type beats a
    // wildcard, and graphql-response+json beats json.
    let mut best: Option<(f32, u8, MediaType)> = None;
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let media = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let (rank, kind) = match media.as_str() {
            GRAPHQL_RESPONSE => (2, MediaType::GraphqlResponse),
            JSON => (1, MediaType::Json),
            "application/*" | "*/*" => (0, MediaType::GraphqlResponse),
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, brank, _)| q > bq || (q == bq && rank > brank)) {
            best = Some((q, rank, kind));
        }
    }
    best.map(|(_, _, kind)| kind)
}

fn error_body(status: StatusCode, media: MediaType, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, media.content_type())],
        json!({ "errors": [{ "message": message }] }).to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    query: Option<Value>,
    operation_name: Option<Value>,
    variables: Option<Value>,
    extensions: Option<Value>,
}

struct Parsed {
    query: String,
    operation_name: Option<String>,
    variables: Option<Value>,
    extensions: Option<Value>,
}

fn check_fields(body: Body) -> Result<Parsed, &'static str> {
    let query = match body.query {
        Some(Value::String(q)) => q,
        Some(_) => return Err("`query` must be a string"),
        None => return Err("the request has no `query`"),
    };
    let operation_name = match body.operation_name {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err("`operationName` must be a string"),
    };
    let variables = match body.variables {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v),
        Some(_) => return Err("`variables` must be an object"),
    };
    let extensions = match body.extensions {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v),
        Some(_) => return Err("`extensions` must be an object"),
    };
    Ok(Parsed {
        query,
        operation_name,
        variables,
        extensions,
    })
}

async fn execute(
    state: &AppState,
    media: MediaType,
    parsed: Parsed,
    method: Method,
    caller: Who,
) -> Response {
    if method == Method::GET {
        // GET may only read: find the operation that would run and refuse a mutation.
        if let Ok(doc) = async_graphql::parser::parse_query(&parsed.query) {
            let op_type = match &parsed.operation_name {
                Some(name) => doc
                    .operations
                    .iter()
                    .find(|(n, _)| n.is_some_and(|n| n.as_str() == name))
                    .map(|(_, op)| op.node.ty),
                None => doc.operations.iter().next().map(|(_, op)| op.node.ty),
            };
            if matches!(
                op_type,
                Some(OperationType::Mutation | OperationType::Subscription)
            ) {
                let mut response = error_body(
                    StatusCode::METHOD_NOT_ALLOWED,
                    media,
                    "only queries may be sent with GET; send mutations with POST",
                );
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
                return response;
            }
        }
    }
    let mut request = async_graphql::Request::new(parsed.query);
    if let Some(name) = parsed.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = parsed.variables {
        request = request.variables(async_graphql::Variables::from_json(vars));
    }
    if let Some(Value::Object(ext)) = parsed.extensions {
        for (k, v) in ext {
            if let Ok(value) = async_graphql::Value::from_json(v) {
                request.extensions.insert(k, value);
            }
        }
    }
    run(state, media, request, caller).await
}

/// Runs a GraphQL request as `caller` and answers with the status codes of `media`.
async fn run(
    state: &AppState,
    media: MediaType,
    request: async_graphql::Request,
    caller: Who,
) -> Response {
    let phase = Phase::default();
    let mut request = request
        .data(phase.clone())
        .data(caller.caller)
        .data(caller.ip)
        .data(auth::AuthBudget::default());
    if let Some(session) = caller.session {
        request = request.data(session);
    }
    if caller.caller.0.is_none() && !state.ctx.limits.exposure.anonymous_introspection {
        request = request.disable_introspection();
    }
    let response = state.schema.execute(request, &phase, caller.caller).await;
    if phase.mutation()
        && let Some(viewer) = caller.caller.0
    {
        state.ctx.recent_writes.note(viewer.id);
    }
    let (status, body) = if phase.executed() {
        // Straight to text: no `serde_json::Value` of the whole answer in between.
        let body = serde_json::to_string(&response).unwrap_or_else(|_| "{}".to_string());
        (StatusCode::OK, body)
    } else {
        // Nothing ran: the response has no `data` at all.
        let mut body = serde_json::to_value(&response).unwrap_or_else(|_| json!({}));
        if let Value::Object(map) = &mut body {
            map.remove("data");
        }
        let status = match media {
            MediaType::GraphqlResponse => StatusCode::BAD_REQUEST,
            MediaType::Json => StatusCode::OK,
        };
        (status, body.to_string())
    };
    (status, [(header::CONTENT_TYPE, media.content_type())], body).into_response()
}

pub async fn graphql_post(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let ip = state
        .ctx
        .limits
        .trusted_proxies
        .client_of(&parts.extensions, &parts.headers);
    let headers = parts.headers;
    let Some(media) = negotiate(&headers) else {
        return error_body(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accept application/graphql-response+json or application/json",
        );
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    // A body declared too large is refused before a byte of it is read.
    let is_multipart = content_type.as_deref() == Some(MULTIPART);
    let limit = if is_multipart {
        state
            .ctx
            .limits
            .max_upload_bytes
            .saturating_add(MULTIPART_OVERHEAD)
    } else {
        MAX_BODY_BYTES
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            media,
            &format!("the request body is larger than {limit} bytes"),
        );
    }
    let (caller, session) = match authenticate(&state, &headers).await {
        Ok(who) => who,
        Err(refusal) => return refusal.into_response(media),
    };
    let caller = Who {
        caller,
        session,
        ip,
    };
    if is_multipart {
        return multipart(&state, media, &headers, body, caller).await;
    }
    if content_type.as_deref() != Some(JSON) {
        return error_body(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "send the request as Content-Type: application/json (or multipart/form-data to upload a file)",
        );
    }
    let body: Bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                media,
                &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
            );
        }
    };
    let body: Body = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error_body(
                StatusCode::BAD_REQUEST,
                media,
                &format!("the body is not a GraphQL request in JSON: {e}"),
            );
        }
    };
    match check_fields(body) {
        Ok(parsed) => execute(&state, media, parsed, Method::POST, caller).await,
        Err(message) => error_body(StatusCode::BAD_REQUEST, media, message),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// GET serves queries, and upgrades to the graphql-transport-ws websocket.
pub async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    if parts.headers.contains_key(header::UPGRADE) {
        let ip = state
            .ctx
            .limits
            .trusted_proxies
            .client_of(&parts.extensions, &parts.headers);
        return match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
            Ok(upgrade) => crate::ws::upgrade(upgrade, state, ip),
            Err(rejection) => rejection.into_response(),
        };
    }
    let Some(media) = negotiate(&parts.headers) else {
        return error_body(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accept application/graphql-response+json or application/json",
        );
    };
    let (caller, session) = match authenticate(&state, &parts.headers).await {
        Ok(who) => who,
        Err(refusal) => return refusal.into_response(media),
    };
    let ip = state
        .ctx
        .limits
        .trusted_proxies
        .client_of(&parts.extensions, &parts.headers);
    let caller = Who {
        caller,
        session,
        ip,
    };
    let params = match Query::<GetParams>::try_from_uri(&parts.uri) {
        Ok(Query(p)) => p,
        Err(e) => return error_body(StatusCode::BAD_REQUEST, media, &e.to_string()),
    };
    let parse_json = |name: &str, raw: Option<String>| -> Result<Option<Value>, String> {
        raw.map(|s| serde_json::from_str::<Value>(&s))
            .transpose()
            .map_err(|_| format!("`{name}` is not valid JSON"))
    };
    let (variables, extensions) = match (
        parse_json("variables", params.variables),
        parse_json("extensions", params.extensions),
    ) {
        (Ok(v), Ok(e)) => (v, e),
        (Err(m), _) | (_, Err(m)) => return error_body(StatusCode::BAD_REQUEST, media, &m),
    };
    let body = Body {
        query: params.query.map(Value::String),
        operation_name: params.operation_name.map(Value::String),
        variables,
        extensions,
    };
    match check_fields(body) {
        Ok(parsed) => execute(&state, media, parsed, Method::GET, caller).await,
        Err(message) => error_body(StatusCode::BAD_REQUEST, media, message),
    }
}

/// Who sent a request, from where, and in which session.
#[derive(Clone, Copy)]
struct Who {
    caller: Caller,
    session: Option<auth::Session>,
    ip: ClientIp,
}

/// Why a request's credentials were refused before anything ran.
pub(crate) enum Refusal {
    /// 401: a token that is malformed, expired, forged or of a deleted account.
    Unauthenticated(String),
    /// 403: a signed-in caller who may not do this at all.
    Forbidden(String),
    Internal,
}

impl Refusal {
    fn into_response(self, media: MediaType) -> Response {
        let (status, error) = match self {
            Refusal::Unauthenticated(m) => (StatusCode::UNAUTHORIZED, ApiError::Unauthenticated(m)),
            Refusal::Forbidden(m) => (StatusCode::FORBIDDEN, ApiError::Forbidden(m)),
            Refusal::Internal => (StatusCode::INTERNAL_SERVER_ERROR, ApiError::Internal),
        };
        let mut response = (
            status,
            [(header::CONTENT_TYPE, media.content_type())],
            json!({ "errors": [{ "message": error.message(), "extensions": { "code": error.code() } }] })
                .to_string(),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

/// The caller named by the `Authorization` header: nobody without one. A header that is
/// there but bad is refused, never taken for nobody.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Caller, Option<auth::Session>), Refusal> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok((Caller(None), None));
    };
    if values.next().is_some() {
        return Err(Refusal::Unauthenticated(
            "send one Authorization header, not several".into(),
        ));
    }
    let token = value.to_str().ok().and_then(auth::bearer).ok_or_else(|| {
        Refusal::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
    })?;
    match state.ctx.viewer_until(token, auth::Accept::Session).await {
        Ok(grant) => Ok((Caller(Some(grant.viewer)), Some(grant.session))),
        Err(ApiError::Unauthenticated(m)) => Err(Refusal::Unauthenticated(m)),
        Err(_) => Err(Refusal::Internal),
    }
}

/// A GraphQL multipart request (an upload). Only admins upload (`importFlights`), so the
/// body is not read for anybody else.
async fn multipart(
    state: &AppState,
    media: MediaType,
    headers: &HeaderMap,
    body: axum::body::Body,
    caller: Who,
) -> Response {
    if let Err(e) = caller.caller.admin() {
        let refusal = match e {
            ApiError::Forbidden(_) => {
                Refusal::Forbidden("only admins upload files (importFlights)".into())
            }
            _ => Refusal::Unauthenticated(
                "sign in as an admin to upload files: send `Authorization: Bearer <token>`".into(),
            ),
        };
        return refusal.into_response(media);
    }
    let max = state.ctx.limits.max_upload_bytes;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // The whole body is bounded (the file, plus room for the operations and the map),
    // whether or not it declared its length.
    let limit = max.saturating_add(MULTIPART_OVERHEAD);
    let mut seen = 0usize;
    let limited = futures::StreamExt::map(body.into_data_stream(), move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the upload is larger than MAX_UPLOAD_BYTES",
            ));
        }
        Ok(chunk)
    });
    let reader = futures::TryStreamExt::into_async_read(limited);
    let options = async_graphql::http::MultipartOptions::default().max_file_size(max);
    match async_graphql::http::receive_body(content_type, reader, options).await {
        Ok(request) => run(state, media, request, caller).await,
        Err(async_graphql::ParseRequestError::PayloadTooLarge) => error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            media,
            &format!("the upload is larger than {max} bytes (MAX_UPLOAD_BYTES)"),
        ),
        Err(async_graphql::ParseRequestError::InvalidMultipart(e))
            if e.to_string().contains("size limit")
                || e.to_string().contains("MAX_UPLOAD_BYTES") =>
        {
            error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                media,
                &format!("the upload is larger than {max} bytes (MAX_UPLOAD_BYTES)"),
            )
        }
        Err(e) => error_body(
            StatusCode::BAD_REQUEST,
            media,
            &format!("not a GraphQL multipart request: {e}"),
        ),
    }
}

/// The GraphiQL page and its assets, compiled in so it works offline.
const GRAPHIQL_ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphql-ws.min.js",
        "text/javascript",
        include_bytes!("../assets/graphiql/graphql-ws.min.js"),
    ),
    (
        "start.js",
        "text/javascript",
        include_bytes!("../assets/graphiql/start.js"),
    ),
    (
        "page.css",
        "text/css",
        include_bytes!("../assets/graphiql/page.css"),
    ),
];

const GRAPHIQL_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub async fn graphiql() -> Response {
    (
        [
            (header::CONTENT_SECURITY_POLICY, GRAPHIQL_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(include_str!("../assets/graphiql/index.html")),
    )
        .into_response()
}

pub async fn graphiql_asset(Path(file): Path<String>) -> Response {
    match GRAPHIQL_ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

/// Prometheus text format. Job counts by status are read from the database at each scrape.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(handle) = &state.ctx.metrics else {
        return (StatusCode::NOT_FOUND, "metrics are not enabled").into_response();
    };
    match &state.ctx.limits.exposure.metrics {
        crate::MetricsAccess::Open => {}
        crate::MetricsAccess::Off => {
            return (
                StatusCode::NOT_FOUND,
                "metrics are served on METRICS_LISTEN, not on the API's port",
            )
                .into_response();
        }
        crate::MetricsAccess::Bearer(expected) => {
            let presented = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(auth::bearer);
            if !presented
                .is_some_and(|token| constant_time_eq(token.as_bytes(), expected.as_bytes()))
            {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    "send Authorization: Bearer <METRICS_TOKEN>",
                )
                    .into_response();
            }
        }
    }
    match state.ctx.store.job_counts().await {
        Ok(counts) => {
            for status in domain::JobStatus::ALL {
                let n = counts
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map_or(0, |(_, n)| *n);
                metrics::gauge!("fast_flights_jobs", "status" => status.as_str()).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot count jobs for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Whether two byte strings are equal, in time that depends on their length only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// `ready` once the primary answers, then a line per read replica (which never makes the
/// API unready: its reads go to the primary).
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.ctx.store.ping().await {
        Ok(()) => {
            let mut body = String::from("ready");
            for r in state.ctx.store.replica_status() {
                body.push_str(&format!("\nreplica {}: {}", r.name, r.state.as_str()));
                if let Some(lag) = r.lag_ms {
                    body.push_str(&format!(", {lag} ms behind"));
                }
            }
            (StatusCode::OK, body).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
