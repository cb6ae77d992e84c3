//! `schema/schema.graphql` is the contract: it must be exactly what the code serves.

use std::path::Path;

#[test]
fn committed_schema_matches_the_code() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fast-flights"))
        .arg("schema")
        .output()
        .expect("run fast-flights schema");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated = String::from_utf8(output.stdout).expect("UTF-8 SDL");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/schema.graphql");
    let committed = std::fs::read_to_string(&path).expect("schema/schema.graphql is committed");
    assert!(
        generated == committed,
        "schema/schema.graphql differs from the code's schema; run `just schema` and commit it"
    );
}
