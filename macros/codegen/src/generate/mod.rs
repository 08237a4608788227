//! One generator per artefact; each returns the tokens of its items.

pub mod entity;
pub mod fallback;
pub mod model_impl;
pub mod schemas;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::{FieldDef, ScalarKind};

/// The canonical, absolute Rust type of a scalar, so generated modules need
/// no `use` of the user's scope to name it.
pub fn scalar_type(kind: ScalarKind) -> TokenStream {
    match kind {
        ScalarKind::I16 => quote!(i16),
        ScalarKind::I32 => quote!(i32),
        ScalarKind::I64 => quote!(i64),
        ScalarKind::F32 => quote!(f32),
        ScalarKind::F64 => quote!(f64),
        ScalarKind::Bool => quote!(bool),
        ScalarKind::String => quote!(::std::string::String),
        ScalarKind::DateTimeUtc => quote!(
            ::ferrobridge::__private::chrono::DateTime<::ferrobridge::__private::chrono::Utc>
        ),
        ScalarKind::Date => quote!(::ferrobridge::__private::chrono::NaiveDate),
        ScalarKind::Decimal => quote!(::ferrobridge::__private::rust_decimal::Decimal),
        ScalarKind::Uuid => quote!(::ferrobridge::__private::uuid::Uuid),
        ScalarKind::Json => quote!(::ferrobridge::__private::serde_json::Value),
        ScalarKind::Choice => {
            unreachable!("a Choice field's type is the user's enum: use inner_type")
        }
    }
}

/// The scalar type of a field (inside `Option`): canonical for built-in
/// kinds, the user's enum for choices (as seen from a child module when `in_child`).
pub fn inner_type(field: &FieldDef, in_child: bool) -> TokenStream {
    match field.kind.expect("checked: supported type") {
        ScalarKind::Choice => match &field.inner {
            syn::Type::Path(path) if in_child => path_from_child(&path.path),
            inner => quote!(#inner),
        },
        kind => scalar_type(kind),
    }
}

/// The field's full type (`Option` included) in canonical form.
pub fn field_type(field: &FieldDef) -> TokenStream {
    let inner = inner_type(field, false);
    if field.nullable {
        quote!(::core::option::Option<#inner>)
    } else {
        inner
    }
}

/// `#[doc = "..."]` attributes for each line.
pub fn doc_attrs<S: AsRef<str>>(lines: &[S]) -> TokenStream {
    let lines = lines.iter().map(|l| format!(" {}", l.as_ref()));
    quote!(#(#[doc = #lines])*)
}

/// Rewrites a path written in the user's module so it resolves from a
/// module nested one level below it.
pub fn path_from_child(path: &syn::Path) -> TokenStream {
    let first = path.segments.first().map(|s| s.ident.to_string());
    if path.leading_colon.is_some() || first.as_deref() == Some("crate") {
        quote!(#path)
    } else if first.as_deref() == Some("self") {
        let rest = path.segments.iter().skip(1);
        quote!(super #(:: #rest)*)
    } else {
        quote!(super::#path)
    }
}

/// `impl Debug` printing every field but secrets (`write_only`, `password`)
/// as `"***"`, so hashes and passwords never reach logs.
pub fn debug_impl<'a>(
    ty: TokenStream,
    name: &str,
    fields: impl Iterator<Item = &'a FieldDef>,
    value_of: impl Fn(&syn::Ident) -> TokenStream,
) -> TokenStream {
    let entries = fields.map(|f| {
        let key = f.name();
        if f.is_secret() {
            quote!(.field(#key, &"***"))
        } else {
            let value = value_of(&f.ident);
            quote!(.field(#key, &#value))
        }
    });
    quote! {
        impl ::core::fmt::Debug for #ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name) #(#entries)* .finish()
            }
        }
    }
}
