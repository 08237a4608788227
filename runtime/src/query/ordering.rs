//! The effective ordering of a list: the requested or default terms
//! (`-created_at`, `author__name`), made total by the primary key.

use super::{allowed_list, detail};
use crate::error::{ErrorDetail, ErrorKind};
use crate::model::{FieldMeta, ModelMeta};

/// One term of the effective ordering.
#[derive(Clone, Copy, Debug)]
pub struct OrderTerm {
    /// The field sorted by; for a term across a relation, the foreign key.
    pub field: &'static FieldMeta,
    /// Across a relation (`author__name`): the referenced model's field.
    pub related: Option<&'static FieldMeta>,
    /// `-field`.
    pub descending: bool,
}

/// The terms of `?ordering=a,-b`: fields of `#[api(ordering(...))]`, each
/// with an optional `-` for descending.
pub(super) fn parse_ordering(
    meta: &'static ModelMeta,
    raw: &str,
) -> Result<Vec<OrderTerm>, ErrorDetail> {
    let mut terms = Vec::new();
    for part in raw
        .split(',')
        .map(|p| p.trim_matches(' '))
        .filter(|p| !p.is_empty())
    {
        let (descending, name) = match part.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, part),
        };
        match meta
            .field(name)
            .filter(|_| meta.api.ordering.contains(&name))
        {
            Some(field) => terms.push(OrderTerm {
                field,
                related: None,
                descending,
            }),
            None => {
                return Err(detail(
                    "ordering",
                    ErrorKind::UnknownOrdering,
                    format!(
                        "Cannot order by `{name}`; allowed: {} (prefix `-` for descending)",
                        allowed_list(meta.api.ordering.iter().copied())
                    ),
                ));
            }
        }
    }
    Ok(terms)
}

/// The model's default ordering (`#[model(ordering = "-shelf__label,title")]`),
/// with related terms resolved to the referenced model's field.
pub fn default_ordering(meta: &'static ModelMeta) -> Vec<OrderTerm> {
    meta.ordering
        .iter()
        .filter_map(|t| {
            let field = meta.field(t.field)?;
            let related = match t.related {
                None => None,
                // Checked when the model is registered (`ModelMeta::check_ordering`).
                Some(name) => Some((field.references?)().field(name)?),
            };
            Some(OrderTerm {
                field,
                related,
                descending: t.descending,
            })
        })
        .collect()
}

/// Appends the primary key unless present, so equal values never leave the
/// order (and so pages and cursors) ambiguous.
pub fn make_total(meta: &'static ModelMeta, mut ordering: Vec<OrderTerm>) -> Vec<OrderTerm> {
    if !ordering
        .iter()
        .any(|t| t.field.primary_key && t.related.is_none())
        && let Some(pk) = meta.field(meta.primary_key)
    {
        ordering.push(OrderTerm {
            field: pk,
            related: None,
            descending: false,
        });
    }
    ordering
}
