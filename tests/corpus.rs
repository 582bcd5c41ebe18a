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

/// Clones the genai-eu-versions bundle into a temporary folder.
fn genai_versions() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("git")
        .args(["clone", "-q"])
        .arg(corpus("genai-eu-versions.bundle"))
        .arg(dir.path().join("versions"))
        .status()
        .unwrap();
    assert!(status.success(), "git clone of the bundle");
    dir
}

/// The “…” spans of a memo body.
fn quoted_spans(body: &str) -> Vec<String> {
    body.split('“')
        .skip(1)
        .filter_map(|rest| rest.split('”').next())
        .map(str::to_string)
        .collect()
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn every_quotation_of_every_corpus_memo_is_verbatim_in_the_version_it_quotes() {
    use policydiff::analyse::Taxonomy;
    use policydiff::config::MemoConfig;
    use policydiff::memo::{self, Side};
    use policydiff::record::VersionsRepository;

    let dir = genai_versions();
    let repository = VersionsRepository::open(&dir.path().join("versions")).unwrap();
    let taxonomy = Taxonomy::default();
    let changes = repository.version_changes(None).unwrap();
    let (mut memos, mut quotes, mut plain) = (0, 0, 0);
    let mut kinds = std::collections::BTreeMap::new();
    for change in &changes {
        let Some(drafted) = memo::for_recorded_change(
            &repository,
            change,
            &change.document.service,
            &MemoConfig::default(),
            &taxonomy,
        )
        .unwrap() else {
            continue;
        };
        memos += 1;
        *kinds
            .entry(format!("{:?}", drafted.front_matter.change_kind))
            .or_insert(0) += 1;
        let after = repository.blob_text(change.blob).unwrap();
        let before = repository.blob_text(change.earlier[0].1).unwrap();
        for quote in &drafted.quotes {
            let version = match quote.side {
                Side::After => &after,
                Side::Before => &before,
            };
            assert!(
                quote.is_verbatim_in(version),
                "{} {}: {:?} is not in the {:?} version",
                change.commit,
                change.document.terms_type,
                quote.text,
                quote.side
            );
            quotes += 1;
            plain += usize::from(
                !quote.text.contains("](")
                    && !quote.text.contains('<')
                    && !quote.text.contains("**"),
            );
        }
        // Every quotation mark of the title and the body opens a recorded quotation (which may
        // itself hold quotes), and every recorded quotation is used.
        let mut rest = format!("{}\n\n{}", drafted.title, drafted.body);
        for quote in &drafted.quotes {
            let marked = format!("“{}”", quote.text);
            assert!(
                rest.contains(&marked),
                "{}: {marked} is not in the title or the body",
                change.commit
            );
            rest = rest.replacen(&marked, "", 1);
        }
        assert!(
            quoted_spans(&rest).is_empty(),
            "{}: the memo quotes text that is not a recorded quotation: {rest}",
            change.commit
        );
        assert!(
            drafted.title.chars().count() <= 140 && !drafted.title.ends_with('.'),
            "{}",
            drafted.title
        );
        // Same change, same memo.
        let again = memo::for_recorded_change(
            &repository,
            change,
            &change.document.service,
            &MemoConfig::default(),
            &taxonomy,
        )
        .unwrap()
        .unwrap();
        assert_eq!(again.to_markdown(), drafted.to_markdown());
    }
    assert!(memos > 900, "{memos} memos");
    assert!(quotes > 300, "{quotes} quotations checked");
    // Quotations are plain words: no link address, no emphasis, no HTML.
    assert!(
        plain * 100 >= quotes * 99,
        "{plain} of {quotes} quotations in plain words"
    );
    for kind in ["Substantive", "Cosmetic", "Revert", "Technical"] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 10,
            "{kind}: {kinds:?}"
        );
    }
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn real_changes_get_the_expected_kind_and_topics() {
    use policydiff::analyse::{ChangeKind, Taxonomy};
    use policydiff::config::MemoConfig;
    use policydiff::memo;
    use policydiff::record::VersionsRepository;

    let dir = genai_versions();
    let repository = VersionsRepository::open(&dir.path().join("versions")).unwrap();
    let changes = repository.version_changes(None).unwrap();
    let memo_of = |prefix: &str| {
        let change = changes
            .iter()
            .find(|c| c.commit.starts_with(prefix))
            .unwrap_or_else(|| panic!("no change {prefix}"));
        memo::for_recorded_change(
            &repository,
            change,
            &change.document.service,
            &MemoConfig::default(),
            &Taxonomy::default(),
        )
        .unwrap()
        .unwrap()
    };
    // A link's tracking identifier changed: cosmetic, near zero.
    let link = memo_of("70e6bc2");
    assert_eq!(link.front_matter.change_kind, ChangeKind::Cosmetic);
    assert!(link.front_matter.significance < 0.05);
    // "Effective August 28, 2025" became "Effective 28 August 2025": cosmetic.
    assert_eq!(
        memo_of("e784069").front_matter.change_kind,
        ChangeKind::Cosmetic
    );
    // Meta AI's terms: what happens to AI chats shared with friends and family changed.
    let meta = memo_of("c375e3af");
    assert_eq!(meta.front_matter.change_kind, ChangeKind::Substantive);
    assert_eq!(meta.front_matter.topics[0], "ai");
    assert!(
        meta.body
            .contains("“When you interact with AI chats that use Private Processing technology"),
        "{}",
        meta.body
    );
    assert!(meta.front_matter.significance > 0.5);
    // Technical upgrades are never presented as policy changes.
    let technical = changes
        .iter()
        .find(|c| c.is_technical() && !c.earlier.is_empty())
        .unwrap();
    let drafted = memo::for_recorded_change(
        &repository,
        technical,
        &technical.document.service,
        &MemoConfig::default(),
        &Taxonomy::default(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(drafted.front_matter.change_kind, ChangeKind::Technical);
    assert!(drafted.front_matter.significance <= 0.05);
}

/// Every answer of every service of the genai-eu versions, at HEAD and over their history:
/// each evidence sentence is verbatim in the plain text of the version at its commit. The table
/// of answers at HEAD is printed (`--nocapture`) for reading against the texts.
#[test]
#[ignore = "needs ../shared/corpora"]
fn every_fact_evidence_is_verbatim_at_its_commit() {
    use policydiff::analyse::plain_text;
    use policydiff::facts::{self, rules::Rules};
    use policydiff::record::VersionsRepository;

    let dir = genai_versions();
    let repository = VersionsRepository::open(&dir.path().join("versions")).unwrap();
    let rules = Rules::with_additions(&[]).unwrap();
    let started = std::time::Instant::now();
    let services = facts::repository_facts(&repository, None, &rules, None).unwrap();
    let elapsed = started.elapsed();
    let mut texts: std::collections::HashMap<(String, String, String), String> = Default::default();
    let mut checked = 0;
    let mut answered = 0;
    for service in &services {
        let evidence = service
            .facts
            .iter()
            .flat_map(|f| &f.evidence)
            .chain(service.history.iter().flatten().flat_map(|c| &c.evidence));
        for evidence in evidence {
            let key = (
                service.service.clone(),
                evidence.commit.clone(),
                evidence.terms_type.clone(),
            );
            let text = texts.entry(key).or_insert_with(|| {
                plain_text(
                    &repository
                        .version_text_at(&evidence.commit, &service.service, &evidence.terms_type)
                        .unwrap(),
                )
            });
            assert!(
                text.contains(&evidence.quote),
                "{} {} at {}: {:?}",
                service.service,
                evidence.terms_type,
                evidence.commit,
                evidence.quote
            );
            checked += 1;
        }
        answered += service
            .facts
            .iter()
            .filter(|f| f.answer != facts::AnswerKind::NotStated)
            .count();
        println!("{}", service.service);
        for fact in &service.facts {
            println!("  {:<26} {}", fact.id, fact.summary());
        }
    }
    println!(
        "{} services, {} answers stated, {checked} evidence quotations verbatim, in {:.1} s (history replayed)",
        services.len(),
        answered,
        elapsed.as_secs_f64()
    );
    assert!(services.len() >= 10, "{}", services.len());
    assert!(checked > 100, "{checked}");
    let training = services
        .iter()
        .filter(|s| {
            s.facts
                .iter()
                .any(|f| f.id == "ai_training" && f.answer == facts::AnswerKind::Yes)
        })
        .count();
    assert!(
        training >= 5,
        "AI services say they train on data: {training}"
    );
}

/// The answer changes a tracked round announces for a commit (computed from the documents just
/// before and just after it) are exactly those a replay of the service's whole history finds at
/// that commit, for every change of every genai-eu service.
#[test]
#[ignore = "needs ../shared/corpora"]
fn fact_changes_at_a_commit_match_the_replayed_history() {
    use policydiff::facts::{self, rules::Rules};
    use policydiff::record::{VersionKind, VersionsRepository};

    let dir = genai_versions();
    let repository = VersionsRepository::open(&dir.path().join("versions")).unwrap();
    let rules = Rules::with_additions(&[]).unwrap();
    let services = facts::repository_facts(&repository, None, &rules, None).unwrap();
    let (mut commits, mut announced) = (0, 0);
    let started = std::time::Instant::now();
    for service in &services {
        let history = service.history.clone().unwrap_or_default();
        for change in repository.service_changes(&service.service).unwrap() {
            if !matches!(change.kind(), VersionKind::NewChanges | VersionKind::Revert) {
                continue;
            }
            let direct =
                facts::changes_at_commit(&repository, &service.service, &rules, &change.commit)
                    .unwrap();
            let replayed: Vec<_> = history
                .iter()
                .filter(|c| c.commit == change.commit)
                .cloned()
                .collect();
            let key = |c: &facts::FactChange| (c.id.clone(), c.from.clone(), c.to.clone());
            let mut direct_keys: Vec<_> = direct.iter().map(key).collect();
            let mut replayed_keys: Vec<_> = replayed.iter().map(key).collect();
            direct_keys.sort();
            replayed_keys.sort();
            assert_eq!(
                direct_keys, replayed_keys,
                "{} {} at {}",
                service.service, change.document.terms_type, change.commit
            );
            for change in &direct {
                let same = replayed.iter().find(|r| r.id == change.id).unwrap();
                assert_eq!(change, same, "evidence of {} differs", change.id);
            }
            commits += 1;
            announced += direct.len();
        }
    }
    println!(
        "{commits} changes, {announced} answer changes, same as the replay ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    assert!(commits > 300, "{commits}");
    assert!(announced > 10, "{announced}");
}
