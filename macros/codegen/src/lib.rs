//! The model and code generators behind `#[derive(Model)]`.
//!
//! A plain library, so `cargo xtask expand` and the expansion snapshots can
//! run the same pipeline the proc-macro runs:
//! parse ([`attr`]) -> model ([`ast`]) -> check ([`check`]) -> generate ([`generate`]).

pub mod ast;
pub mod attr;
pub mod check;
pub mod choices;
pub mod ctxt;
pub mod generate;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

pub use choices::expand_choices;

use crate::ctxt::Ctxt;

/// Expands `#[derive(Model)]` on `input`: the generated items, or the
/// compile errors found (all of them, each at its token).
pub fn expand_model(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let model = attr::parse(&cx, input);
    if let Some(model) = &model {
        check::check(&cx, model);
    }
    match (cx.check(), model) {
        (Ok(()), Some(model)) => {
            let entity = generate::entity::generate(&model);
            let schemas = generate::schemas::generate(&model);
            let model_impl = generate::model_impl::generate(&model);
            quote! {
                #entity
                #schemas
                #model_impl
            }
        }
        (Err(err), _) => {
            let errors = err.to_compile_error();
            let fallback = generate::fallback::generate(input);
            quote! {
                #errors
                #fallback
            }
        }
        (Ok(()), None) => unreachable!("parse returns None only after recording an error"),
    }
}
