//! Development figures for change memos, on `../shared/corpora/memo-devset` (real changes with
//! Open Terms Archive's human memos, and the whole pga-versions repository).
//!
//! Run: `cargo run --release --example memo_devset [-- DEVSET_DIR]`.
//!
//! It prints, for the memo-drafting code as it is:
//! - ranking: over every recorded change of pga-versions, how well significance puts the changes
//!   people wrote a memo about first (ROC AUC; share of them in the top 10%);
//! - topics: how often the human memo's main topic (the first topic its title names, else its
//!   description, read with the same taxonomy) is our first topic, or among our first two;
//! - words: the share of the human title's content words (the service's name left out) found in
//!   our title, and in our title, description and first paragraph;
//! - quotations: the share in plain words (no Markdown link, emphasis or HTML), and memos with at
//!   most 4 topics;
//! - claims: over every memo of pga-versions, the share with a claim about a quotation that the
//!   two versions contradict (words said to be added — "added", "now reads", "changed … to" —
//!   that the previous version holds, or words said to be removed that the new one holds).
//!
//! These are development figures: the product is judged on changes it has not seen, so they
//! guide work and are not targets to tune individual cases to.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use policydiff::analyse::{Taxonomy, plain_text};
use policydiff::config::MemoConfig;
use policydiff::memo::{self, Memo};
use policydiff::record::VersionsRepository;

const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "its", "with", "from", "into", "that", "this", "their", "now", "new",
    "are", "was", "has", "have", "can", "will", "not", "but", "all", "any", "our", "your", "you",
    "they", "them", "more", "less", "about", "after", "before", "over", "under", "out", "who",
    "which", "what", "when", "how", "may", "also", "such", "than", "then", "these", "those",
];

/// Content words: lower case, three letters or more, not a stop word, plural `s` dropped.
fn content_words(text: &str, leave_out: &str) -> BTreeSet<String> {
    let left_out: BTreeSet<String> = words(leave_out).collect();
    words(text)
        .filter(|w| w.chars().count() >= 3 && !STOP_WORDS.contains(&w.as_str()))
        .filter(|w| !left_out.contains(w))
        .collect()
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            match w.strip_suffix('s') {
                Some(stem) if stem.chars().count() >= 3 => stem.to_string(),
                _ => w,
            }
        })
}

/// The first topic a text names, by position.
fn first_topic(taxonomy: &Taxonomy, text: &str) -> Option<String> {
    taxonomy
        .topics_in(text)
        .into_iter()
        .filter_map(|t| taxonomy.find(&t.name, text).map(|at| (at, t.name.clone())))
        .min()
        .map(|(_, name)| name)
}

/// Whether a quotation reads as plain words.
fn is_plain(quote: &str) -> bool {
    !quote.contains("](")
        && !quote.contains('<')
        && !quote.contains("**")
        && !quote.contains('\\')
        && !quote.starts_with('_')
        && !quote.ends_with('_')
        && !quote.contains(" _")
}

/// The YAML front matter's `title` and `html_description` of a human memo.
fn front_matter(text: &str) -> (String, String) {
    let mut title = String::new();
    let mut description = String::new();
    for line in text.lines().skip(1).take_while(|l| *l != "---") {
        if let Some(v) = line.strip_prefix("title:") {
            title = v.trim().trim_matches('"').to_string();
        } else if let Some(v) = line.strip_prefix("html_description:") {
            description = v.trim().trim_matches('"').to_string();
        }
    }
    (title, description)
}

fn lead(memo: &Memo) -> String {
    // The body opens with the sentence naming the change's commit; the lead is what follows.
    memo.body
        .split("\n\n")
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

struct CaseFigures {
    cases: usize,
    main_first: usize,
    main_top2: usize,
    with_main: usize,
    title_share: f64,
    lead_share: f64,
    quotes: usize,
    plain_quotes: usize,
    at_most_4_topics: usize,
    /// Feature values of the memo'd changes of other collections than pga.
    extra_positives: Vec<[f64; 9]>,
}

fn cases(devset: &Path, taxonomy: &Taxonomy) -> CaseFigures {
    let mut figures = CaseFigures {
        cases: 0,
        main_first: 0,
        main_top2: 0,
        with_main: 0,
        title_share: 0.0,
        lead_share: 0.0,
        quotes: 0,
        plain_quotes: 0,
        at_most_4_topics: 0,
        extra_positives: Vec::new(),
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(devset.join("cases"))
        .expect("the devset's cases folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        let meta: serde_json::Value = serde_json::from_str(&read("meta.json")).expect("meta.json");
        let (before, after) = (read("before.md"), read("after.md"));
        if before.trim().is_empty() {
            continue;
        }
        let service = meta["service"].as_str().unwrap_or_default();
        let terms = meta["terms_type"].as_str().unwrap_or_default();
        let date = &meta["date"].as_str().unwrap_or_default()[..10];
        let drafted = memo::for_texts(
            &before,
            &after,
            service,
            terms,
            date,
            &MemoConfig::default(),
        );
        let (human_title, human_description) = front_matter(&read("human_memo.md"));
        figures.cases += 1;
        if meta["collection"] != "pga"
            && let Some(features) = drafted.analysis.significance_features
        {
            figures.extra_positives.push(features.values());
        }

        let ours = &drafted.front_matter.topics;
        let main = first_topic(taxonomy, &human_title)
            .or_else(|| first_topic(taxonomy, &human_description));
        if let Some(main) = &main {
            figures.with_main += 1;
            figures.main_first += usize::from(ours.first() == Some(main));
            figures.main_top2 += usize::from(ours.iter().take(2).any(|t| t == main));
        }
        let wanted = content_words(&human_title, service);
        let in_title = content_words(&drafted.title, service);
        let in_lead = content_words(
            &format!(
                "{} {} {}",
                drafted.title,
                drafted.front_matter.html_description,
                lead(&drafted)
            ),
            service,
        );
        if !wanted.is_empty() {
            let share = |found: &BTreeSet<String>| {
                wanted.intersection(found).count() as f64 / wanted.len() as f64
            };
            figures.title_share += share(&in_title);
            figures.lead_share += share(&in_lead);
        }
        figures.quotes += drafted.quotes.len();
        figures.plain_quotes += drafted.quotes.iter().filter(|q| is_plain(&q.text)).count();
        figures.at_most_4_topics += usize::from(ours.len() <= 4);
        println!(
            "case {:<70} main {:<16} ours {:<40} title: {}",
            dir.file_name().unwrap().to_string_lossy(),
            main.as_deref().unwrap_or("-"),
            ours.join(","),
            drafted.title
        );
        if std::env::var_os("DEVSET_SHOW").is_some() {
            println!("  human: {human_title}\n  lead: {}\n", lead(&drafted));
        }
    }
    figures
}

/// ROC AUC of `scores` for the positives, and the share of positives in the top 10%.
fn ranking(scored: &[(f64, bool)]) -> (f64, f64) {
    let positives: Vec<f64> = scored.iter().filter(|s| s.1).map(|s| s.0).collect();
    let negatives: Vec<f64> = scored.iter().filter(|s| !s.1).map(|s| s.0).collect();
    let mut wins = 0.0;
    for p in &positives {
        for n in &negatives {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    let auc = wins / (positives.len() * negatives.len()).max(1) as f64;
    let mut sorted: Vec<&(f64, bool)> = scored.iter().collect();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let top = sorted.len().div_ceil(10);
    let in_top = sorted[..top].iter().filter(|s| s.1).count();
    (auc, in_top as f64 / positives.len().max(1) as f64)
}

/// A labelled example for fitting: the model's feature values, and whether people wrote a memo.
type Example = ([f64; 9], bool);

/// Logistic regression with balanced classes and a little L2, by full-batch gradient descent
/// on standardised features (deterministic); returns weights on the raw features.
fn fit(examples: &[Example]) -> (f64, [f64; 9]) {
    let n = examples.len() as f64;
    let mut mean = [0.0; 9];
    let mut spread = [0.0; 9];
    for (x, _) in examples {
        for i in 0..9 {
            mean[i] += x[i] / n;
        }
    }
    for (x, _) in examples {
        for i in 0..9 {
            spread[i] += (x[i] - mean[i]).powi(2) / n;
        }
    }
    let spread: Vec<f64> = spread.iter().map(|v| v.sqrt().max(1e-9)).collect();
    let positives = examples.iter().filter(|e| e.1).count() as f64;
    let (weight_positive, weight_negative) = (n / (2.0 * positives), n / (2.0 * (n - positives)));
    let (mut b, mut w) = (0.0, [0.0; 9]);
    for _ in 0..3000 {
        let (mut gb, mut gw) = (0.0, [0.0; 9]);
        for (x, y) in examples {
            let z = b
                + (0..9)
                    .map(|i| w[i] * (x[i] - mean[i]) / spread[i])
                    .sum::<f64>();
            let p = 1.0 / (1.0 + (-z).exp());
            let (target, weight) = if *y {
                (1.0, weight_positive)
            } else {
                (0.0, weight_negative)
            };
            let g = weight * (p - target);
            gb += g;
            for i in 0..9 {
                gw[i] += g * (x[i] - mean[i]) / spread[i];
            }
        }
        b -= 0.5 * gb / n;
        for i in 0..9 {
            w[i] -= 0.5 * (gw[i] / n + 0.01 * w[i]);
        }
    }
    let mut raw = [0.0; 9];
    let mut intercept = b;
    for i in 0..9 {
        raw[i] = w[i] / spread[i];
        intercept -= w[i] * mean[i] / spread[i];
    }
    (intercept, raw)
}

fn score(weights: &(f64, [f64; 9]), x: &[f64; 9]) -> f64 {
    let z = weights.0 + x.iter().zip(weights.1).map(|(x, w)| x * w).sum::<f64>();
    1.0 / (1.0 + (-z).exp())
}

fn main() {
    let devset = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/memo-devset")
        });
    let taxonomy = Taxonomy::with_additions(&Default::default());
    let figures = cases(&devset, &taxonomy);
    if std::env::var_os("DEVSET_CASES_ONLY").is_some() {
        print_case_figures(&figures);
        return;
    }

    // Ranking over every recorded change of pga-versions.
    let clone = tempfile::tempdir().expect("a temporary folder");
    let repo_path = clone.path().join("pga");
    let cloned = std::process::Command::new("git")
        .args(["-c", "init.defaultBranch=main", "clone", "-q"])
        .arg(devset.join("pga-versions.bundle"))
        .arg(&repo_path)
        .status()
        .expect("git");
    assert!(cloned.success(), "git clone of pga-versions.bundle");
    let memoed: BTreeSet<String> = std::fs::read_to_string(devset.join("cases/index.jsonl"))
        .expect("cases/index.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["collection"] == "pga")
        .filter_map(|m| m["commit"].as_str().map(str::to_string))
        .collect();
    let repository = VersionsRepository::open(&repo_path).expect("the pga-versions clone");
    let started = std::time::Instant::now();
    let mut scored = Vec::new();
    let mut examples: Vec<Example> = Vec::new();
    let mut contradicted = 0;
    let mut with_claims = 0;
    let mut memoed_titles = Vec::new();
    for change in repository.version_changes(None).expect("history") {
        let Some(drafted) = memo::for_recorded_change(
            &repository,
            &change,
            &change.document.service,
            &MemoConfig::default(),
            &taxonomy,
        )
        .expect("a memo") else {
            continue;
        };
        let memoed = memoed.contains(&change.commit);
        scored.push((drafted.front_matter.significance, memoed));
        if memoed {
            memoed_titles.push((
                drafted.front_matter.significance,
                format!("{} {}", change.document, drafted.front_matter.title),
                drafted.analysis.significance_features,
            ));
        }
        if let Some((_, previous)) = change.earlier.first() {
            let before = plain_text(&repository.blob_text(*previous).expect("a version"));
            let after = plain_text(&repository.blob_text(change.blob).expect("a version"));
            let claims = body_claims(&drafted.body);
            with_claims += usize::from(!claims.is_empty());
            let false_claim = claims.iter().any(|(new, words)| {
                if *new {
                    before.contains(words)
                } else {
                    after.contains(words)
                }
            });
            if false_claim {
                contradicted += 1;
                if std::env::var_os("DEVSET_SHOW_CLAIMS").is_some() {
                    println!(
                        "contradicted: {} {}\n  {}\n",
                        change.document,
                        change.commit,
                        drafted
                            .body
                            .lines()
                            .filter(|l| !l.is_empty())
                            .nth(1)
                            .unwrap_or("")
                    );
                }
            }
        }
        let values = drafted
            .analysis
            .significance_features
            .map(|f| f.values())
            .unwrap_or([0.0; 9]);
        examples.push((values, memoed));
    }
    let seconds = started.elapsed().as_secs_f64();
    let (auc, top10) = ranking(&scored);
    if std::env::var_os("DEVSET_SHOW_RANKS").is_some() {
        for (significance, title, features) in &memoed_titles {
            let rank = scored.iter().filter(|s| s.0 > *significance).count() + 1;
            println!("rank {rank:>5} {significance:.3} {title}\n    {features:?}");
        }
    }

    // Refitting: pga's changes, plus the memo'd changes of the other collection as further
    // positives; five folds give every pga change a score from a model that did not see it.
    let pga = examples.len();
    examples.extend(figures.extra_positives.iter().map(|x| (*x, true)));
    let mut out_of_fold = vec![0.0; pga];
    for fold in 0..5 {
        let training: Vec<Example> = examples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 5 != fold)
            .map(|(_, e)| *e)
            .collect();
        let weights = fit(&training);
        for (i, (x, _)) in examples.iter().enumerate().take(pga) {
            if i % 5 == fold {
                out_of_fold[i] = score(&weights, x);
            }
        }
    }
    let refit: Vec<(f64, bool)> = out_of_fold
        .iter()
        .zip(&examples)
        .map(|(s, (_, y))| (*s, *y))
        .collect();
    let (cv_auc, cv_top10) = ranking(&refit);
    let weights = fit(&examples);
    println!();
    println!(
        "claims       {contradicted} of {} memos ({:.1}%) make a claim about a quotation the versions contradict ({with_claims} make such claims)",
        scored.len(),
        100.0 * contradicted as f64 / scored.len().max(1) as f64
    );
    println!(
        "ranking      {} changes ({} with a human memo) drafted in {seconds:.1}s: ROC AUC {auc:.3}, {:.0}% of memo'd changes in the top 10%",
        scored.len(),
        scored.iter().filter(|s| s.1).count(),
        top10 * 100.0
    );
    println!(
        "refit        5-fold cross-validated on pga: ROC AUC {cv_auc:.3}, {:.0}% of memo'd changes in the top 10%",
        cv_top10 * 100.0
    );
    println!(
        "weights      ({:.2}, [{}]) for {}",
        weights.0,
        weights
            .1
            .iter()
            .map(|w| format!("{w:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        policydiff::analyse::significance::FEATURE_NAMES.join(", ")
    );
    print_case_figures(&figures);
}

/// The claims a memo's body makes about quotations: `(true, words)` for words said to be new,
/// `(false, words)` for words said to be gone.
fn body_claims(body: &str) -> Vec<(bool, String)> {
    let mut claims = Vec::new();
    for (verb, new) in [
        ("added “", true),
        ("now reads “", true),
        ("removed “", false),
        ("no longer says “", false),
        ("changed “", false),
        ("” to “", true),
    ] {
        for (at, _) in body.match_indices(verb) {
            let rest = &body[at + verb.len()..];
            // A quotation may hold quotation marks of its own: it ends at the mark the memo's
            // sentence goes on after.
            let end = rest.match_indices('”').map(|(end, _)| end).find(|&end| {
                let after = &rest[end + '”'.len_utf8()..];
                after.is_empty()
                    || ["; ", ".", "…", " to “", "\n", ",", " from ", " with ", " ("]
                        .iter()
                        .any(|next| after.starts_with(next))
            });
            if let Some(end) = end {
                claims.push((new, rest[..end].to_string()));
            }
        }
    }
    claims
}

fn print_case_figures(figures: &CaseFigures) {
    let share = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
    println!(
        "topics       {} cases ({} with a main topic): ours first {:.0}%, in our first two {:.0}%",
        figures.cases,
        figures.with_main,
        share(figures.main_first, figures.with_main),
        share(figures.main_top2, figures.with_main)
    );
    println!(
        "words        human title's content words in our title {:.0}%, in title + description + lead {:.0}%",
        100.0 * figures.title_share / figures.cases.max(1) as f64,
        100.0 * figures.lead_share / figures.cases.max(1) as f64
    );
    println!(
        "quotations   {} quotations, {:.0}% plain words; memos with at most 4 topics {:.0}%",
        figures.quotes,
        share(figures.plain_quotes, figures.quotes),
        share(figures.at_most_4_topics, figures.cases)
    );
}
