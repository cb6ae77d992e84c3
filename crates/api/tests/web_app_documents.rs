//! Every GraphQL document the web app sends stays within the API's limits: each
//! `graphql(`…`)` in frontend/ is run through the schema's cost, depth, alias and
//! mutation checks with its page sizes at their largest.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use fast_flights_api::{ApiLimits, limits_schema};

const LIMIT_CODES: &[&str] = &[
    "QUERY_TOO_COMPLEX",
    "QUERY_TOO_DEEP",
    "TOO_MANY_MUTATIONS",
    "GRAPHQL_VALIDATION_FAILED",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "node_modules" && name != "gql" && !name.starts_with('.') {
                sources(&path, out);
            }
        } else if name.ends_with(".ts") || name.ends_with(".tsx") {
            out.push(path);
        }
    }
}

/// The text of every ``graphql(`…`)`` call in `source`.
fn documents(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("graphql(`") {
        let after = &rest[start + "graphql(`".len()..];
        let Some(end) = after.find('`') else { break };
        found.push(after[..end].to_string());
        rest = &after[end..];
    }
    found
}

fn fragment_names(document: &str) -> Vec<String> {
    document
        .split("fragment ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next().map(str::to_string))
        .collect()
}

fn spreads(document: &str) -> HashSet<String> {
    document
        .split("...")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty() && name != "on").then_some(name)
        })
        .collect()
}

/// Worst-case values for the variables a document declares: the largest page.
fn variables(document: &str) -> serde_json::Value {
    let mut vars = serde_json::Map::new();
    for (name, ty) in document
        .split('$')
        .skip(1)
        .filter_map(|rest| rest.split_once(':'))
        .map(|(name, rest)| {
            let ty: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '!' || *c == '[' || *c == ']')
                .collect();
            (name.trim().to_string(), ty)
        })
    {
        if ty.trim_end_matches('!') == "Int" {
            vars.insert(name, serde_json::json!(100));
        }
    }
    serde_json::Value::Object(vars)
}

#[tokio::test]
async fn every_web_app_document_is_within_the_limits() {
    let frontend = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../frontend");
    let mut files = Vec::new();
    for dir in ["app", "components", "lib"] {
        sources(&frontend.join(dir), &mut files);
    }
    let all: Vec<String> = files
        .iter()
        .flat_map(|f| documents(&std::fs::read_to_string(f).expect("read source")))
        .collect();
    let fragments: BTreeMap<String, String> = all
        .iter()
        .filter(|d| d.trim_start().starts_with("fragment"))
        .flat_map(|d| fragment_names(d).into_iter().map(move |n| (n, d.clone())))
        .collect();
    let operations: Vec<&String> = all
        .iter()
        .filter(|d| !d.trim_start().starts_with("fragment"))
        .collect();
    assert!(
        operations.len() >= 20,
        "found only {} operations in {}: is the extraction broken?",
        operations.len(),
        frontend.display()
    );

    let limits = ApiLimits::default();
    let schema = limits_schema(&limits);
    // The same checks with no budget at all: every document is refused, saying its cost.
    let measuring = limits_schema(&ApiLimits {
        max_complexity: 0,
        ..ApiLimits::default()
    });
    let mut report = Vec::new();
    for operation in operations {
        // The operation and the fragments it spreads, transitively.
        let mut text = operation.clone();
        let mut included = HashSet::new();
        loop {
            let missing: Vec<String> = spreads(&text)
                .into_iter()
                .filter(|n| !included.contains(n) && fragments.contains_key(n))
                .collect();
            if missing.is_empty() {
                break;
            }
            for name in missing {
                let fragment = &fragments[&name];
                for n in fragment_names(fragment) {
                    included.insert(n);
                }
                text.push('\n');
                text.push_str(fragment);
            }
        }
        let request = || {
            async_graphql::Request::new(text.clone())
                .variables(async_graphql::Variables::from_json(variables(&text)))
        };
        let response = schema.execute(request()).await;
        let measured = measuring.execute(request()).await;
        let cost: usize = measured
            .errors
            .first()
            .and_then(|e| e.message.strip_prefix("this query costs "))
            .and_then(|m| m.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no cost for {text}: {:?}", measured.errors));
        let refused: Vec<String> = response
            .errors
            .iter()
            .filter(|e| {
                e.extensions
                    .as_ref()
                    .and_then(|x| x.get("code"))
                    .is_some_and(|c| LIMIT_CODES.iter().any(|l| c.to_string().contains(l)))
            })
            .map(|e| e.message.clone())
            .collect();
        let name = operation
            .split_whitespace()
            .nth(1)
            .unwrap_or("?")
            .split('(')
            .next()
            .unwrap_or("?")
            .to_string();
        assert!(refused.is_empty(), "{name} is refused: {refused:?}\n{text}");
        report.push((cost, name));
    }
    report.sort();
    let costliest = report.last().expect("documents");
    println!(
        "{} web app documents within cost {}, depth {}, {} aliases; the costliest, {}, costs {}",
        report.len(),
        limits.max_complexity,
        limits.max_depth,
        limits.max_aliases,
        costliest.1,
        costliest.0
    );
    for (cost, name) in report.iter().rev().take(5) {
        println!("  {cost:>6}  {name}");
    }
}

#[tokio::test]
async fn the_limits_refuse_what_they_should() {
    let schema = limits_schema(&ApiLimits::default());
    let code = |response: &async_graphql::Response| {
        response
            .errors
            .first()
            .and_then(|e| e.extensions.as_ref())
            .and_then(|x| x.get("code"))
            .map(|c| c.to_string().trim_matches('"').to_string())
    };
    let aliases: String = (0..1249)
        .map(|i| format!("a{i}: jobs(first: 100) {{ edges {{ node {{ id }} }} }} "))
        .collect();
    let response = schema.execute(format!("{{ {aliases} }}")).await;
    assert_eq!(
        code(&response).as_deref(),
        Some("QUERY_TOO_COMPLEX"),
        "{:?}",
        response.errors
    );
    assert!(
        response.errors[0].message.contains("1249"),
        "{}",
        response.errors[0].message
    );

    // Under the alias limit, each page of 100 still counts 100 times.
    let aliases: String = (0..50)
        .map(|i| format!("a{i}: jobs(first: 100) {{ edges {{ node {{ id status }} }} }} "))
        .collect();
    let response = schema.execute(format!("{{ {aliases} }}")).await;
    assert_eq!(
        code(&response).as_deref(),
        Some("QUERY_TOO_COMPLEX"),
        "{:?}",
        response.errors
    );
    assert!(
        response.errors[0]
            .message
            .contains("more than the limit of 10000"),
        "{}",
        response.errors[0].message
    );

    let circular = "query cop { __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }";
    let response = schema.execute(circular).await;
    assert_eq!(
        code(&response).as_deref(),
        Some("QUERY_TOO_DEEP"),
        "{:?}",
        response.errors
    );

    let deep = "{ jobs { edges { node { bestOffer { job { bestOffer { job { bestOffer { job { bestOffer { job { bestOffer { job { bestOffer { job { bestOffer { job { id } } } } } } } } } } } } } } } } } }";
    let response = schema.execute(deep).await;
    assert_eq!(
        code(&response).as_deref(),
        Some("QUERY_TOO_DEEP"),
        "{:?}",
        response.errors
    );
    assert!(
        response.errors[0].message.contains("limit of 16"),
        "{}",
        response.errors[0].message
    );

    // The standard introspection query of GraphiQL and code generators still passes.
    let standard = include_str!("introspection_query.graphql");
    let response = schema.execute(standard).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
}
