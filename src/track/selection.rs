//! Which documents a round tracks: the declared documents named by the selection
//! (`SERVICE` or `SERVICE/TERMS TYPE`, all when empty), and the failures of those whose
//! declaration cannot be used (reported, never tracked).

use std::collections::BTreeSet;

use crate::config::Config;
use crate::declaration::{self, DocumentId, Severity, Terms};
use crate::report::DocumentReport;
use crate::{Error, FailureClass, Result};

/// A document to track.
pub(super) struct Document {
    pub id: DocumentId,
    pub service_name: String,
    pub terms: Terms,
    pub declaration_sha256: String,
}

/// The documents of a round, and the selected ones that failed before it started.
pub(super) struct Selection {
    pub documents: Vec<Document>,
    pub failed: Vec<DocumentReport>,
}

/// Whether a selection (`SERVICE` or `SERVICE/TERMS`) names a document.
pub fn selected(selection: &[String], service: &str, terms: &str) -> bool {
    selection.is_empty()
        || selection.iter().any(|s| match s.split_once('/') {
            Some((sv, t)) => sv == service && t == terms,
            None => s == service,
        })
}

/// Loads the declarations and picks the selected documents; a name that matches no declared
/// document is an error (a typo must not give a silent empty round).
pub(super) fn select_documents(config: &Config, selection: &[String]) -> Result<Selection> {
    let loaded = declaration::load_directory(&config.declarations)?;
    let mut documents = Vec::new();
    let mut reports = Vec::new();
    let mut named: BTreeSet<DocumentId> = BTreeSet::new();
    for service in &loaded {
        let Some(declaration) = &service.declaration else {
            let message = service
                .problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            if selected(selection, &service.service_id, "")
                || selection.iter().any(|s| {
                    s.split_once('/')
                        .is_some_and(|(id, _)| id == service.service_id)
                })
            {
                reports.push(DocumentReport::failed_as(
                    DocumentId::new(&service.service_id, ""),
                    FailureClass::InvalidDeclaration,
                    message,
                ));
            }
            continue;
        };
        for (terms_type, terms) in &declaration.terms {
            named.insert(DocumentId::new(&service.service_id, terms_type));
            if selected(selection, &service.service_id, terms_type) {
                documents.push(Document {
                    id: DocumentId::new(&service.service_id, terms_type),
                    service_name: declaration.name.clone(),
                    terms: terms.clone(),
                    declaration_sha256: declaration.sha256.clone(),
                });
            }
        }
        let broken: BTreeSet<&String> = service
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .filter_map(|p| p.terms_type.as_ref())
            .filter(|t| !declaration.terms.contains_key(*t))
            .collect();
        for terms_type in broken {
            named.insert(DocumentId::new(&service.service_id, terms_type));
            if selected(selection, &service.service_id, terms_type) {
                let message = service
                    .problems_for(terms_type)
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                reports.push(DocumentReport::failed_as(
                    DocumentId::new(&service.service_id, terms_type),
                    FailureClass::InvalidDeclaration,
                    message,
                ));
            }
        }
    }
    for wanted in selection {
        let known = named.iter().any(|named| {
            selected(
                std::slice::from_ref(wanted),
                &named.service,
                &named.terms_type,
            )
        });
        if !known {
            return Err(Error::UnknownDocument {
                wanted: wanted.clone(),
                folder: config.declarations.display().to_string(),
            });
        }
    }
    Ok(Selection {
        documents,
        failed: reports,
    })
}
