//! Checks over the shared corpora beside the repository (`../shared/`), run by `.ci/run`
//! with `cargo test -- --ignored`. They need the corpora, so they are ignored by default.

use std::path::{Path, PathBuf};

use policydiff::declaration::{self, Severity};

fn corpus(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(sub)
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn every_ota_declaration_parses_and_only_genuine_problems_are_reported() {
    let mut services = 0;
    let mut entries = 0;
    for collection in ["contrib", "pga"] {
        let dir = corpus(&format!("ota-declarations/{collection}/declarations"));
        for loaded in declaration::load_directory(&dir).expect("corpus folder") {
            services += 1;
            let declaration = loaded.declaration.as_ref().unwrap_or_else(|| {
                panic!("{} did not parse: {:?}", loaded.service_id, loaded.problems)
            });
            entries += declaration.terms.len();
            for problem in &loaded.problems {
                // Their .filters.js files are not in the corpus: the filters they name are unknown here.
                assert_eq!(problem.severity, Severity::Error);
                assert!(
                    problem.message.contains("neither built in"),
                    "unexpected problem: {problem}"
                );
            }
        }
    }
    assert!(services >= 400, "{services} services");
    assert!(entries >= 800, "{entries} terms entries");
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn history_answers_which_declaration_was_in_force() {
    let loaded =
        declaration::load_service(&corpus("ota-declarations/contrib/declarations/ASUS.json"));
    let asus = loaded.declaration.clone().unwrap();
    let at = |date: &str| {
        asus.terms_at("Privacy Policy", declaration::parse_date(date).unwrap())
            .unwrap()
            .sources[0]
            .clone()
    };
    assert_eq!(
        at("2019-01-01").select,
        vec![declaration::Selector::Css("body".into())]
    );
    assert_eq!(
        at("2020-12-08T16:00:00Z").select,
        vec![declaration::Selector::Css("body".into())]
    );
    assert_eq!(
        at("2020-12-09").select,
        vec![declaration::Selector::Css("#member-page-content".into())]
    );
    // An entry whose filters are unknown here is left out, with its problem reported.
    assert!(
        asus.terms_at(
            "Vulnerability Disclosure Policy",
            declaration::parse_date("2024-01-01").unwrap()
        )
        .is_none()
    );
    assert!(
        !loaded
            .problems_for("Vulnerability Disclosure Policy")
            .is_empty()
    );
}
