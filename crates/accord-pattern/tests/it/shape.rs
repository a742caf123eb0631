//! The shape of the tree: operator precedence and associativity as in the STIX grammar.

use accord_pattern::{ComparisonExpr, ObservationExpr, PathStep, Qualifier, parse};

fn cmp(c: &ComparisonExpr) -> String {
    match c {
        ComparisonExpr::Comparison(c) => format!("{}.{}", c.path.object_type, key(&c.path.steps)),
        ComparisonExpr::Exists(p) => format!("exists {}", p.object_type),
        ComparisonExpr::And(items) => format!("(and {})", list(items.iter().map(cmp))),
        ComparisonExpr::Or(items) => format!("(or {})", list(items.iter().map(cmp))),
    }
}

fn key(steps: &[PathStep]) -> String {
    steps
        .iter()
        .map(|s| match s {
            PathStep::Key(k) => k.clone(),
            PathStep::Index(n) => format!("[{n}]"),
            PathStep::AnyIndex => "[*]".into(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(" ")
}

fn obs(e: &ObservationExpr) -> String {
    match e {
        ObservationExpr::Observation(c) => format!("[{}]", cmp(c)),
        ObservationExpr::And(items) => format!("(AND {})", list(items.iter().map(obs))),
        ObservationExpr::Or(items) => format!("(OR {})", list(items.iter().map(obs))),
        ObservationExpr::FollowedBy(items) => {
            format!("(FOLLOWEDBY {})", list(items.iter().map(obs)))
        }
        ObservationExpr::Qualified(inner, qualifiers) => {
            let q = qualifiers.iter().map(|q| match q {
                Qualifier::Within(s) => format!("within {s}"),
                Qualifier::Repeats(n) => format!("repeats {n}"),
                Qualifier::StartStop(a, b) => format!("start {a} stop {b}"),
            });
            format!("({} {})", list(q), obs(inner))
        }
    }
}

/// The tree of `input`, written as an s-expression, is `expected`.
fn check(input: &str, expected: &str) {
    let tree = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
    assert_eq!(obs(&tree.expr), expected, "{input}");
}

#[test]
fn observation_precedence() {
    check(
        "[file:a = 1] AND [file:b = 1] OR [file:c = 1]",
        "(OR (AND [file.a] [file.b]) [file.c])",
    );
    check(
        "[file:a = 1] OR [file:b = 1] AND [file:c = 1]",
        "(OR [file.a] (AND [file.b] [file.c]))",
    );
    check(
        "[file:a = 1] OR [file:b = 1] FOLLOWEDBY [file:c = 1] AND [file:d = 1]",
        "(FOLLOWEDBY (OR [file.a] [file.b]) (AND [file.c] [file.d]))",
    );
    check(
        "[file:a = 1] AND [file:b = 1] AND [file:c = 1]",
        "(AND [file.a] [file.b] [file.c])",
    );
    check(
        "([file:a = 1] AND [file:b = 1]) AND [file:c = 1]",
        "(AND (AND [file.a] [file.b]) [file.c])",
    );
    check(
        "[file:a = 1] FOLLOWEDBY ([file:b = 1] OR [file:c = 1])",
        "(FOLLOWEDBY [file.a] (OR [file.b] [file.c]))",
    );
}

#[test]
fn qualifiers_bind_to_the_expression_before_them() {
    check(
        "[file:a = 1] AND [file:b = 1] WITHIN 5 SECONDS",
        "(AND [file.a] (within 5 [file.b]))",
    );
    check(
        "([file:a = 1] AND [file:b = 1]) WITHIN 5 SECONDS",
        "(within 5 (AND [file.a] [file.b]))",
    );
    check(
        "[file:a = 1] REPEATS 2 TIMES WITHIN 1.5 SECONDS",
        "(repeats 2 within 1.5 [file.a])",
    );
    check(
        "([file:a = 1] REPEATS 2 TIMES) REPEATS 3 TIMES",
        "(repeats 3 (repeats 2 [file.a]))",
    );
    check(
        "[file:a = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.5Z'",
        "(start 2016-06-01T00:00:00Z stop 2016-07-01T00:00:00.5Z [file.a])",
    );
}

#[test]
fn comparison_precedence() {
    check(
        "[file:a = 1 OR file:b = 1 AND file:c = 1]",
        "[(or file.a (and file.b file.c))]",
    );
    check(
        "[file:a = 1 AND file:b = 1 OR file:c = 1]",
        "[(or (and file.a file.b) file.c)]",
    );
    check(
        "[(file:a = 1 OR file:b = 1) AND file:c = 1]",
        "[(and (or file.a file.b) file.c)]",
    );
    check(
        "[file:a = 1 AND EXISTS file:b]",
        "[(and file.a exists file)]",
    );
    check("[file:x[0].'y z'[*].w = 1]", "[file.x.[0].y z.[*].w]");
}

#[test]
fn constants_and_paths() {
    use accord_pattern::{Comparison, Constant, Operator};
    let tree = parse(
        r"[file:x NOT IN ('it\'s', -1, 2.5, true, h'0aFF', b'YQ==', t'2020-02-29T00:00:00Z')]",
    )
    .unwrap();
    let ObservationExpr::Observation(ComparisonExpr::Comparison(Comparison {
        path,
        negated,
        op,
        value,
    })) = tree.expr
    else {
        panic!("{tree:?}");
    };
    assert_eq!(path.object_type, "file");
    assert_eq!(path.steps, vec![PathStep::Key("x".into())]);
    assert!(negated);
    assert_eq!(op, Operator::In);
    let Constant::List(items) = value else {
        panic!()
    };
    assert_eq!(items[0], Constant::String("it's".into()));
    assert_eq!(items[1], Constant::Int(-1));
    assert_eq!(items[2], Constant::Float(2.5));
    assert_eq!(items[3], Constant::Bool(true));
    assert_eq!(items[4], Constant::Hex(vec![0x0a, 0xff]));
    assert_eq!(items[5], Constant::Binary("YQ==".into()));
    let Constant::Timestamp(t) = &items[6] else {
        panic!()
    };
    assert_eq!(t.as_str(), "2020-02-29T00:00:00Z");

    let tree =
        parse("[network-traffic:dst_ref.value = 'x' AND network-traffic:src_refs[*].value = 'y']")
            .unwrap();
    let ObservationExpr::Observation(ComparisonExpr::And(items)) = tree.expr else {
        panic!()
    };
    let refs: Vec<bool> = items
        .iter()
        .map(|c| match c {
            ComparisonExpr::Comparison(c) => c.path.steps[0].is_reference(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(refs, vec![true, true]);
}
